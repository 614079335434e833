// SQLite handles, statements and transactions as absl::Status. Not thread-safe (see header).
#include "controller/store/sqlite_handle.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace labrack::controller {

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  // sqlite3_errmsg describes the last call on this connection, which is the failing one
  // because every caller converts right after it.
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = absl::StrCat(what, ": ", detail, " (", sqlite3_errstr(rc), ")");
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return absl::AlreadyExistsError(message);
      }
      return absl::InternalError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status ExecSql(sqlite3* db, const char* sql, absl::string_view what) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, what);
  return absl::OkStatus();
}

namespace {

// journal_mode answers with the mode in effect, which stays "delete" when WAL is impossible.
absl::Status UseWal(sqlite3* db, const std::string& path) {
  ASSIGN_OR_RETURN(Statement pragma,
                   Statement::Prepare(db, "PRAGMA journal_mode = WAL", "set WAL journal"));
  ASSIGN_OR_RETURN(bool row, pragma.Step());
  std::string mode = row ? pragma.ColumnText(0) : "";
  if (mode != "wal") {
    return absl::FailedPreconditionError(absl::StrCat("database ", path,
                                                      " cannot use the WAL journal (mode is '",
                                                      mode, "'); put it on a local filesystem"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SqliteDb> OpenSqlite(const std::string& path, absl::Duration busy_timeout) {
  sqlite3* raw = nullptr;
  // The caller serializes every use of the connection, so SQLite's own mutex is not needed.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDb db(raw);  // owned even on failure, when it carries the error message
  if (rc != SQLITE_OK) return SqliteError(db.get(), rc, absl::StrCat("open database ", path));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));
  RETURN_IF_ERROR(ExecSql(db.get(), "PRAGMA foreign_keys = ON", "enable foreign keys"));
  RETURN_IF_ERROR(UseWal(db.get(), path));
  RETURN_IF_ERROR(ExecSql(db.get(), "PRAGMA synchronous = FULL", "set synchronous=FULL"));
  return db;
}

// --- Statement

Statement::Statement(sqlite3* db, SqliteStmt stmt, std::string what)
    : db_(db), stmt_(std::move(stmt)), what_(std::move(what)) {}

absl::StatusOr<Statement> Statement::Prepare(sqlite3* db, absl::string_view sql,
                                             absl::string_view what) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  SqliteStmt stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(db, rc, absl::StrCat(what, " (prepare)"));
  return Statement(db, std::move(stmt), std::string(what));
}

void Statement::Keep(int rc) {
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Statement& Statement::BindInt(int index, int64_t value) {
  Keep(sqlite3_bind_int64(stmt_.get(), index, value));
  return *this;
}

Statement& Statement::BindUint(int index, uint64_t value) {
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  return BindInt(index, static_cast<int64_t>(value > kMax ? kMax : value));
}

Statement& Statement::BindText(int index, absl::string_view text) {
  Keep(sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()),
                         SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::BindTextOrNull(int index, absl::string_view text) {
  if (!text.empty()) return BindText(index, text);
  Keep(sqlite3_bind_null(stmt_.get(), index));
  return *this;
}

Statement& Statement::BindBlob(int index, absl::string_view bytes) {
  // A zero-length blob needs a non-null pointer, or SQLite stores NULL.
  static const char kEmpty = 0;
  const char* data = bytes.empty() ? &kEmpty : bytes.data();
  Keep(sqlite3_bind_blob(stmt_.get(), index, data, static_cast<int>(bytes.size()),
                         SQLITE_TRANSIENT));
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return SqliteError(db_, bind_rc_, absl::StrCat(what_, " (bind)"));
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, what_);
}

absl::Status Statement::Run() {
  ASSIGN_OR_RETURN(bool row, Step());
  if (row) return absl::InternalError(absl::StrCat(what_, ": returned a row unexpectedly"));
  return absl::OkStatus();
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text),
                     sqlite3_column_bytes(stmt_.get(), column));
}

std::string Statement::ColumnBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_.get(), column);
  if (data == nullptr) return "";
  return std::string(static_cast<const char*>(data), sqlite3_column_bytes(stmt_.get(), column));
}

// --- Transaction

absl::StatusOr<Transaction> Transaction::Begin(sqlite3* db, TxKind kind, absl::string_view what) {
  const char* sql = kind == TxKind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED";
  RETURN_IF_ERROR(ExecSql(db, sql, absl::StrCat(what, " (begin)")));
  return Transaction(db, std::string(what));
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), what_(std::move(other.what_)) {}

Transaction::~Transaction() {
  // Some errors (e.g. SQLITE_FULL) end the transaction by themselves; then there is
  // nothing to roll back and ROLLBACK would only fail.
  if (db_ != nullptr && !sqlite3_get_autocommit(db_)) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

absl::Status Transaction::Commit() {
  RETURN_IF_ERROR(ExecSql(db_, "COMMIT", absl::StrCat(what_, " (commit)")));
  db_ = nullptr;
  return absl::OkStatus();
}

}  // namespace labrack::controller
