// Owning wrappers for SQLite's connection and statement handles, SQLite errors as
// absl::Status, and a transaction that rolls back unless committed. Not thread-safe: one
// connection and everything made from it belong to one thread at a time (SqliteStore's mutex).
#ifndef LABRACK_CONTROLLER_STORE_SQLITE_HANDLE_H_
#define LABRACK_CONTROLLER_STORE_SQLITE_HANDLE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/status_macros.h"

namespace labrack::controller {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStmt = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

// The status for result code `rc` of the call described by `what` (e.g. "create sandbox"),
// read right after the failing call: BUSY and LOCKED are Unavailable (retry), a duplicate
// primary key or unique value is AlreadyExists, anything else is Internal.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what);

// Opens (creating if absent) the database file at `path` with extended result codes, the
// given busy timeout, foreign keys on, WAL journal and synchronous=FULL, so that a committed
// transaction survives a kill of the process or the machine. FailedPrecondition when the
// file cannot use WAL (e.g. its filesystem lacks shared memory); Internal or Unavailable
// for SQLite errors.
absl::StatusOr<SqliteDb> OpenSqlite(const std::string& path, absl::Duration busy_timeout);

// Runs SQL that returns no rows (several statements allowed).
absl::Status ExecSql(sqlite3* db, const char* sql, absl::string_view what);

// One prepared statement. Bind errors are kept and reported by the next Step() or Run(), so
// callers chain binds without checking each. Parameter and column indexes are as in SQLite:
// parameters from 1, columns from 0.
class Statement {
 public:
  // Internal when `sql` does not compile.
  static absl::StatusOr<Statement> Prepare(sqlite3* db, absl::string_view sql,
                                           absl::string_view what);

  Statement(Statement&&) = default;
  Statement& operator=(Statement&&) = default;

  Statement& BindInt(int index, int64_t value);
  // Saturates at INT64_MAX, which is far beyond any seq or capacity we store.
  Statement& BindUint(int index, uint64_t value);
  Statement& BindText(int index, absl::string_view text);
  // NULL for empty text: lets a UNIQUE column hold any number of "unset" values.
  Statement& BindTextOrNull(int index, absl::string_view text);
  Statement& BindBlob(int index, absl::string_view bytes);

  // True when a row is ready to read, false when the statement is done.
  absl::StatusOr<bool> Step();
  // Steps a statement that returns no rows to its end.
  absl::Status Run();

  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;  // "" for NULL
  std::string ColumnBlob(int column) const;

 private:
  Statement(sqlite3* db, SqliteStmt stmt, std::string what);
  void Keep(int rc);

  sqlite3* db_;
  SqliteStmt stmt_;
  std::string what_;
  int bind_rc_ = SQLITE_OK;
};

enum class TxKind {
  kRead,   // BEGIN DEFERRED: a consistent snapshot, takes no write lock
  kWrite,  // BEGIN IMMEDIATE: takes the write lock at once, so concurrent writers queue
           // (up to the busy timeout) instead of failing when they upgrade
};

// An open transaction. Destroying it before Commit() rolls it back.
class Transaction {
 public:
  // Unavailable when another process holds the write lock past the busy timeout.
  static absl::StatusOr<Transaction> Begin(sqlite3* db, TxKind kind, absl::string_view what);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // On error the transaction is rolled back when this object goes away.
  absl::Status Commit();

 private:
  Transaction(sqlite3* db, std::string what) : db_(db), what_(std::move(what)) {}

  sqlite3* db_;  // null once committed or moved from
  std::string what_;
};

// Runs `body` (returning absl::Status or absl::StatusOr<T>) in one transaction and commits
// when it succeeds; an error from `body` rolls everything back and is returned as is.
template <typename Fn>
auto InTransaction(sqlite3* db, TxKind kind, absl::string_view what, Fn&& body)
    -> decltype(body()) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db, kind, what));
  auto result = body();
  if (!result.ok()) return result;
  RETURN_IF_ERROR(tx.Commit());
  return result;
}

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_STORE_SQLITE_HANDLE_H_
