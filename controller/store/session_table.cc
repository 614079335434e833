// The sessions table. Not thread-safe (see tables.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/store/blob_rows.h"
#include "controller/store/sqlite_handle.h"
#include "controller/store/tables.h"

namespace labrack::controller {
namespace {

// Parameters ?1..?6 in the order BindSession binds them.
constexpr char kInsertSession[] = R"sql(
INSERT INTO sessions (session_id, request_id, name, phase, created_at_us, session)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
)sql";

constexpr char kUpdateSession[] = R"sql(
UPDATE sessions SET request_id = ?2, name = ?3, phase = ?4, created_at_us = ?5, session = ?6
WHERE session_id = ?1
)sql";

void BindSession(Statement& statement, const v1::Session& session) {
  statement.BindText(1, session.session_id())
      .BindTextOrNull(2, session.request_id())
      .BindText(3, session.name())
      .BindInt(4, session.phase())
      .BindInt(5, ToUnixMicros(session.created_at()))
      .BindBlob(6, SerializeDeterministic(session));
}

}  // namespace

absl::StatusOr<std::optional<v1::Session>> ReadSession(sqlite3* db, const std::string& session_id) {
  return ReadOne<v1::Session>(db, "SELECT session FROM sessions WHERE session_id = ?1",
                              session_id, absl::StrCat("read session ", session_id));
}

absl::StatusOr<std::optional<v1::Session>> ReadSessionByRequestId(sqlite3* db,
                                                                  const std::string& request_id) {
  return ReadOne<v1::Session>(db, "SELECT session FROM sessions WHERE request_id = ?1",
                              request_id, absl::StrCat("read session of request ", request_id));
}

absl::StatusOr<std::optional<v1::Session>> ReadSessionByName(sqlite3* db, const std::string& name) {
  return ReadOne<v1::Session>(
      db,
      "SELECT session FROM sessions WHERE name = ?1 ORDER BY created_at_us DESC, rowid DESC "
      "LIMIT 1",
      name, absl::StrCat("read session named ", name));
}

absl::Status InsertSession(sqlite3* db, const v1::Session& session) {
  const std::string what = absl::StrCat("insert session ", session.session_id());
  ASSIGN_OR_RETURN(Statement insert, Statement::Prepare(db, kInsertSession, what));
  BindSession(insert, session);
  absl::Status inserted = insert.Run();
  if (absl::IsAlreadyExists(inserted)) {
    return absl::AlreadyExistsError(absl::StrCat(
        "name: session '", session.name(),
        "' exists and has not ended; end it or choose another name"));
  }
  return inserted;
}

absl::Status UpdateSessionRow(sqlite3* db, const v1::Session& session) {
  const std::string what = absl::StrCat("update session ", session.session_id());
  ASSIGN_OR_RETURN(Statement update, Statement::Prepare(db, kUpdateSession, what));
  BindSession(update, session);
  RETURN_IF_ERROR(update.Run());
  if (sqlite3_changes(db) != 1) return absl::InternalError(absl::StrCat(what, ": no such row"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Session>> QuerySessions(sqlite3* db, bool include_ended) {
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db,
                                      "SELECT session FROM sessions WHERE ?1 OR phase <> ?2 "
                                      "ORDER BY created_at_us, rowid",
                                      "list sessions"));
  select.BindInt(1, include_ended ? 1 : 0).BindInt(2, v1::SESSION_PHASE_ENDED);
  return ReadBlobs<v1::Session>(select, "list sessions");
}

v1::Event SessionPhaseEvent(const v1::Session& session) {
  v1::Event event;
  event.set_kind(v1::EVENT_KIND_SESSION_PHASE);
  event.set_session_id(session.session_id());
  event.set_session_phase(session.phase());
  event.set_message(session.message());
  return event;
}

}  // namespace labrack::controller
