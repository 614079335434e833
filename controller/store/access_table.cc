// The tokens table and the append-only audit table. Not thread-safe (see tables.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/store/blob_rows.h"
#include "controller/store/sqlite_handle.h"
#include "controller/store/tables.h"

namespace labrack::controller {

absl::Status InsertToken(sqlite3* db, const StoredToken& stored) {
  const v1::Token& token = stored.token;
  const std::string what = absl::StrCat("insert token ", token.token_id());
  ASSIGN_OR_RETURN(Statement insert,
                   Statement::Prepare(db,
                                      "INSERT INTO tokens (token_id, secret_sha256, created_at_us, "
                                      "token) VALUES (?1, ?2, ?3, ?4)",
                                      what));
  insert.BindText(1, token.token_id())
      .BindText(2, stored.secret_sha256)
      .BindInt(3, ToUnixMicros(token.created_at()))
      .BindBlob(4, SerializeDeterministic(token));
  return insert.Run();
}

absl::StatusOr<std::optional<StoredToken>> ReadToken(sqlite3* db, const std::string& token_id) {
  const std::string what = absl::StrCat("read token ", token_id);
  ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db, "SELECT token, secret_sha256 FROM tokens WHERE token_id = ?1", what));
  select.BindText(1, token_id);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::nullopt;
  StoredToken stored;
  RETURN_IF_ERROR(ParseBlob(select.ColumnBlob(0), stored.token, what));
  stored.secret_sha256 = select.ColumnText(1);
  return stored;
}

absl::Status UpdateTokenRow(sqlite3* db, const v1::Token& token) {
  const std::string what = absl::StrCat("update token ", token.token_id());
  ASSIGN_OR_RETURN(Statement update,
                   Statement::Prepare(db, "UPDATE tokens SET token = ?2 WHERE token_id = ?1", what));
  update.BindText(1, token.token_id()).BindBlob(2, SerializeDeterministic(token));
  return update.Run();
}

absl::StatusOr<std::vector<v1::Token>> QueryTokens(sqlite3* db) {
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db,
                                      "SELECT token FROM tokens "
                                      "ORDER BY created_at_us DESC, token_id",
                                      "list tokens"));
  return ReadBlobs<v1::Token>(select, "list tokens");
}

absl::StatusOr<uint64_t> InsertAudit(sqlite3* db, v1::AuditRecord record, absl::Time now) {
  // The seq lives in its column only, as for events.
  record.clear_seq();
  *record.mutable_time() = ToTimestamp(now);
  ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db, "INSERT INTO audit (time_us, record) VALUES (?1, ?2)", "append audit"));
  insert.BindInt(1, absl::ToUnixMicros(now)).BindBlob(2, SerializeDeterministic(record));
  RETURN_IF_ERROR(insert.Run());
  return static_cast<uint64_t>(sqlite3_last_insert_rowid(db));
}

absl::StatusOr<std::vector<v1::AuditRecord>> ReadAudit(sqlite3* db, uint64_t after_seq,
                                                       absl::Time since, size_t limit) {
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db,
                                      "SELECT seq, record FROM audit WHERE seq > ?1 AND "
                                      "time_us >= ?2 ORDER BY seq LIMIT ?3",
                                      "list audit"));
  select.BindUint(1, after_seq)
      .BindInt(2, since == absl::InfinitePast() ? INT64_MIN : absl::ToUnixMicros(since))
      .BindUint(3, limit);
  std::vector<v1::AuditRecord> records;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return records;
    v1::AuditRecord& record = records.emplace_back();
    RETURN_IF_ERROR(
        ParseBlob(select.ColumnBlob(1), record, absl::StrCat("audit record ", select.ColumnInt(0))));
    record.set_seq(static_cast<uint64_t>(select.ColumnInt(0)));
  }
}

}  // namespace labrack::controller
