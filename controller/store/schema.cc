// The migration steps of the controller's database, in order. Append new steps at the end;
// never edit a step that has shipped. Not thread-safe (see header).
#include "controller/store/schema.h"

#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/store/sqlite_handle.h"

namespace labrack::controller {
namespace {

// Protos are stored whole as BLOBs; the other columns exist only to filter, order, join or
// sum in SQL and are rewritten from the proto on every write.
constexpr const char* kMigrations[] = {
    // 1: hosts, topologies, sandboxes with their topology snapshots, events.
    R"sql(
CREATE TABLE hosts (
  host_id TEXT NOT NULL PRIMARY KEY,
  address TEXT NOT NULL,
  drained INTEGER NOT NULL DEFAULT 0,
  last_heartbeat_us INTEGER NOT NULL,
  inventory BLOB NOT NULL
) STRICT;

CREATE TABLE topologies (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  applied_at_us INTEGER NOT NULL,
  topology BLOB NOT NULL,
  PRIMARY KEY (name, version)
) STRICT;

CREATE TABLE sandboxes (
  sandbox_id TEXT NOT NULL PRIMARY KEY,
  request_id TEXT UNIQUE,  -- NULL when the create carried none
  host_id TEXT NOT NULL,
  phase INTEGER NOT NULL,
  candidate TEXT NOT NULL,
  created_at_us INTEGER NOT NULL,
  reserved_vcpus INTEGER NOT NULL,
  reserved_memory_mib INTEGER NOT NULL,
  reserved_disk_mib INTEGER NOT NULL,
  sandbox BLOB NOT NULL
) STRICT;
CREATE INDEX sandboxes_by_host ON sandboxes (host_id, phase);
CREATE INDEX sandboxes_by_phase ON sandboxes (phase);
CREATE INDEX sandboxes_by_candidate ON sandboxes (candidate);
CREATE INDEX sandboxes_by_creation ON sandboxes (created_at_us);

CREATE TABLE sandbox_topologies (
  sandbox_id TEXT NOT NULL PRIMARY KEY REFERENCES sandboxes (sandbox_id),
  topology BLOB NOT NULL
) STRICT;

CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so watchers can resume by seq
  sandbox_id TEXT,  -- NULL for host events
  event BLOB NOT NULL
) STRICT;
CREATE INDEX events_by_sandbox ON events (sandbox_id, seq);
)sql",
    // 2: sessions; sandboxes know their session.
    R"sql(
ALTER TABLE sandboxes ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
CREATE INDEX sandboxes_by_session ON sandboxes (session_id);

CREATE TABLE sessions (
  session_id TEXT NOT NULL PRIMARY KEY,
  request_id TEXT UNIQUE,  -- NULL when the create carried none
  name TEXT NOT NULL,
  phase INTEGER NOT NULL,
  created_at_us INTEGER NOT NULL,
  session BLOB NOT NULL
) STRICT;
-- No two sessions that have not ENDED (5) share a name.
CREATE UNIQUE INDEX sessions_live_name ON sessions (name) WHERE phase <> 5;
CREATE INDEX sessions_by_name ON sessions (name, created_at_us);
)sql",
    // 3: warm pools; a sandbox knows the pool it waits in and the assign that took it out.
    R"sql(
ALTER TABLE sandboxes ADD COLUMN pool TEXT NOT NULL DEFAULT '';
ALTER TABLE sandboxes ADD COLUMN assign_request_id TEXT;  -- NULL unless handed out
CREATE INDEX sandboxes_by_pool ON sandboxes (pool, phase, created_at_us) WHERE pool <> '';
CREATE UNIQUE INDEX sandboxes_by_assign_request ON sandboxes (assign_request_id)
  WHERE assign_request_id IS NOT NULL;

CREATE TABLE pools (
  name TEXT NOT NULL PRIMARY KEY,
  request_id TEXT UNIQUE,  -- NULL when the create carried none
  created_at_us INTEGER NOT NULL,
  pool BLOB NOT NULL
) STRICT;
)sql",
    // 4: access tokens (their secrets' sha256 only) and the append-only audit log.
    R"sql(
CREATE TABLE tokens (
  token_id TEXT NOT NULL PRIMARY KEY,
  secret_sha256 TEXT NOT NULL,
  created_at_us INTEGER NOT NULL,
  token BLOB NOT NULL
) STRICT;

CREATE TABLE audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time_us INTEGER NOT NULL,
  record BLOB NOT NULL
) STRICT;
CREATE INDEX audit_by_time ON audit (time_us);
-- Append-only: the database itself refuses to change or remove a record.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql",
};

absl::StatusOr<int> UserVersion(sqlite3* db) {
  ASSIGN_OR_RETURN(Statement pragma,
                   Statement::Prepare(db, "PRAGMA user_version", "read schema version"));
  ASSIGN_OR_RETURN(bool row, pragma.Step());
  if (!row) return absl::InternalError("read schema version: no row");
  return static_cast<int>(pragma.ColumnInt(0));
}

// Applies the step after the database's version. False when there was none left.
absl::StatusOr<bool> ApplyNextStep(sqlite3* db) {
  return InTransaction(db, TxKind::kWrite, "migrate schema", [db]() -> absl::StatusOr<bool> {
    ASSIGN_OR_RETURN(int version, UserVersion(db));
    if (version < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("database schema version ", version, " was not written by labrack"));
    }
    if (version > KnownSchemaVersion()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database schema version ", version, " is newer than this labrack-controller knows (",
          KnownSchemaVersion(), "); run a controller at least as new as the one that wrote it"));
    }
    if (version == KnownSchemaVersion()) return false;
    const int next = version + 1;
    RETURN_IF_ERROR(
        ExecSql(db, kMigrations[version], absl::StrCat("migrate schema to version ", next)));
    // user_version lives in the database header, so it commits or rolls back with the step.
    std::string set_version = absl::StrCat("PRAGMA user_version = ", next);
    RETURN_IF_ERROR(ExecSql(db, set_version.c_str(), "record schema version"));
    return true;
  });
}

}  // namespace

int KnownSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

absl::Status MigrateSchema(sqlite3* db) {
  for (;;) {
    ASSIGN_OR_RETURN(bool applied, ApplyNextStep(db));
    if (!applied) return absl::OkStatus();
  }
}

}  // namespace labrack::controller
