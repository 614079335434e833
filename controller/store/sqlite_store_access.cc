// SqliteStore's token and audit methods: one transaction each over access_table.cc.
// Thread-safe (see sqlite_store.h).
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "controller/store/sqlite_handle.h"
#include "controller/store/sqlite_store.h"
#include "controller/store/tables.h"

namespace labrack::controller {
namespace {

absl::Status TokenNotFound(const std::string& token_id) {
  return absl::NotFoundError(absl::StrCat("token '", token_id, "' not found"));
}

}  // namespace

absl::Status SqliteStore::CreateToken(const StoredToken& token) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kWrite, "create token",
                       [&] { return InsertToken(db, token); });
}

absl::StatusOr<StoredToken> SqliteStore::GetToken(const std::string& token_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<StoredToken> token, ReadToken(db_.get(), token_id));
  if (!token.has_value()) return TokenNotFound(token_id);
  return *std::move(token);
}

absl::StatusOr<std::vector<v1::Token>> SqliteStore::ListTokens() {
  absl::MutexLock lock(&mu_);
  return QueryTokens(db_.get());
}

absl::StatusOr<v1::Token> SqliteStore::RevokeToken(const std::string& token_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kWrite, "revoke token", [&]() -> absl::StatusOr<v1::Token> {
    ASSIGN_OR_RETURN(std::optional<StoredToken> stored, ReadToken(db, token_id));
    if (!stored.has_value()) return TokenNotFound(token_id);
    v1::Token& token = stored->token;
    if (token.has_revoked_at()) return token;
    *token.mutable_revoked_at() = ToTimestamp(now);
    RETURN_IF_ERROR(UpdateTokenRow(db, token));
    return token;
  });
}

absl::StatusOr<uint64_t> SqliteStore::AppendAudit(const v1::AuditRecord& record) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kWrite, "append audit",
                       [&] { return InsertAudit(db, record, options_.clock()); });
}

absl::StatusOr<std::vector<v1::AuditRecord>> SqliteStore::ListAudit(uint64_t after_seq,
                                                                    absl::Time since,
                                                                    size_t limit) {
  absl::MutexLock lock(&mu_);
  return ReadAudit(db_.get(), after_seq, since, limit);
}

}  // namespace labrack::controller
