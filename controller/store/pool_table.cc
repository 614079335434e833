// The pools table, and the reads a pool assignment needs. Not thread-safe (see tables.h).
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/store/blob_rows.h"
#include "controller/store/sqlite_handle.h"
#include "controller/store/tables.h"

namespace labrack::controller {
namespace {

void BindPool(Statement& statement, const v1::Pool& pool) {
  statement.BindText(1, pool.name())
      .BindTextOrNull(2, pool.request_id())
      .BindInt(3, ToUnixMicros(pool.created_at()))
      .BindBlob(4, SerializeDeterministic(pool));
}

}  // namespace

absl::StatusOr<std::optional<v1::Pool>> ReadPool(sqlite3* db, const std::string& name) {
  return ReadOne<v1::Pool>(db, "SELECT pool FROM pools WHERE name = ?1", name,
                           absl::StrCat("read pool ", name));
}

absl::StatusOr<std::optional<v1::Pool>> ReadPoolByRequestId(sqlite3* db,
                                                            const std::string& request_id) {
  return ReadOne<v1::Pool>(db, "SELECT pool FROM pools WHERE request_id = ?1", request_id,
                           absl::StrCat("read pool of request ", request_id));
}

absl::StatusOr<std::vector<v1::Pool>> QueryPools(sqlite3* db) {
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db, "SELECT pool FROM pools ORDER BY name", "list pools"));
  return ReadBlobs<v1::Pool>(select, "list pools");
}

absl::Status InsertPool(sqlite3* db, const v1::Pool& pool) {
  const std::string what = absl::StrCat("insert pool ", pool.name());
  ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(
          db, "INSERT INTO pools (name, request_id, created_at_us, pool) VALUES (?1, ?2, ?3, ?4)",
          what));
  BindPool(insert, pool);
  absl::Status inserted = insert.Run();
  if (absl::IsAlreadyExists(inserted)) {
    return absl::AlreadyExistsError(
        absl::StrCat("name: pool '", pool.name(), "' exists; delete it or choose another name"));
  }
  return inserted;
}

absl::Status UpdatePoolRow(sqlite3* db, const v1::Pool& pool) {
  const std::string what = absl::StrCat("update pool ", pool.name());
  ASSIGN_OR_RETURN(
      Statement update,
      Statement::Prepare(
          db, "UPDATE pools SET request_id = ?2, created_at_us = ?3, pool = ?4 WHERE name = ?1",
          what));
  BindPool(update, pool);
  RETURN_IF_ERROR(update.Run());
  if (sqlite3_changes(db) != 1) return absl::InternalError(absl::StrCat(what, ": no such row"));
  return absl::OkStatus();
}

absl::Status DeletePoolRow(sqlite3* db, const std::string& name) {
  ASSIGN_OR_RETURN(Statement remove, Statement::Prepare(db, "DELETE FROM pools WHERE name = ?1",
                                                        absl::StrCat("remove pool ", name)));
  remove.BindText(1, name);
  return remove.Run();
}

absl::StatusOr<std::optional<v1::Sandbox>> ReadSandboxByAssignRequestId(
    sqlite3* db, const std::string& request_id) {
  return ReadOne<v1::Sandbox>(db, "SELECT sandbox FROM sandboxes WHERE assign_request_id = ?1",
                              request_id, absl::StrCat("read sandbox of assign ", request_id));
}

absl::StatusOr<std::vector<v1::Sandbox>> ReadReadyPoolSandboxes(sqlite3* db,
                                                                const std::string& pool) {
  const std::string what = absl::StrCat("list ready sandboxes of pool ", pool);
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db,
                                      "SELECT sandbox FROM sandboxes WHERE pool = ?1 AND phase = ?2 "
                                      "ORDER BY created_at_us, rowid",
                                      what));
  select.BindText(1, pool).BindInt(2, v1::SANDBOX_PHASE_READY);
  return ReadBlobs<v1::Sandbox>(select, what);
}

absl::StatusOr<std::optional<v1::Sandbox>> ReadAssignableMember(sqlite3* db, const v1::Pool& pool) {
  // A topology applied since the pool's last refill pass makes its sandboxes stale at once.
  ASSIGN_OR_RETURN(std::optional<v1::TopologyRecord> latest, ReadTopology(db, pool.topology(), 0));
  const uint64_t latest_version = latest.has_value() ? latest->version() : pool.topology_version();
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> ready, ReadReadyPoolSandboxes(db, pool.name()));
  for (v1::Sandbox& s : ready) {
    if (s.pool_spec() == pool.spec() && s.topology_version() == latest_version) return std::move(s);
  }
  return std::nullopt;
}

void TakeFromPool(v1::Sandbox& sandbox, const std::string& candidate,
                  const std::string& request_id, const std::string& owner, absl::Time now) {
  const std::string pool = sandbox.pool();
  sandbox.clear_pool();
  sandbox.set_assigned_from_pool(pool);
  sandbox.set_candidate(candidate);
  sandbox.set_assign_request_id(request_id);
  sandbox.set_owner(owner);
  *sandbox.mutable_assigned_at() = ToTimestamp(now);
  *sandbox.mutable_updated_at() = ToTimestamp(now);
  sandbox.set_message(absl::StrCat("handed to candidate ", candidate, " from pool ", pool));
}

v1::Event PoolAssignedEvent(const v1::Sandbox& sandbox) {
  v1::Event event = PhaseEvent(sandbox);
  event.set_kind(v1::EVENT_KIND_POOL_ASSIGNED);
  return event;
}

absl::StatusOr<int64_t> CountLivePoolSandboxes(sqlite3* db, const std::string& pool) {
  const std::string what = absl::StrCat("count sandboxes of pool ", pool);
  ASSIGN_OR_RETURN(Statement count,
                   Statement::Prepare(db,
                                      "SELECT COUNT(*) FROM sandboxes WHERE pool = ?1 AND "
                                      "phase <> ?2",
                                      what));
  count.BindText(1, pool).BindInt(2, v1::SANDBOX_PHASE_DESTROYED);
  ASSIGN_OR_RETURN(bool row, count.Step());
  if (!row) return absl::InternalError(absl::StrCat(what, ": no row"));
  return count.ColumnInt(0);
}

}  // namespace labrack::controller
