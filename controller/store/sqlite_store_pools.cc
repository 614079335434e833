// SqliteStore's warm-pool methods: one transaction each over pool_table.cc and the
// sandboxes table. Thread-safe (see sqlite_store.h).
#include <map>
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

absl::Status PoolNotFound(const std::string& name) {
  return absl::NotFoundError(absl::StrCat("pool '", name, "' not found"));
}

// The answer to an assign whose request id took `earlier` out of a pool.
absl::StatusOr<v1::Sandbox> ReplayAssign(const PoolAssignment& a, const v1::Sandbox& earlier) {
  if (earlier.assigned_from_pool() == a.pool && earlier.candidate() == a.candidate) return earlier;
  return absl::InvalidArgumentError(absl::StrCat(
      "request_id: '", a.request_id, "' already gave sandbox ", earlier.sandbox_id(),
      " of pool '", earlier.assigned_from_pool(), "' to candidate '", earlier.candidate(),
      "'; a different assign needs a new request_id"));
}

// NotFound for an unknown pool, FailedPrecondition for one being deleted.
absl::StatusOr<v1::Pool> ReadOpenPool(sqlite3* db, const std::string& name) {
  ASSIGN_OR_RETURN(std::optional<v1::Pool> pool, ReadPool(db, name));
  if (!pool.has_value()) return PoolNotFound(name);
  if (pool->deleting()) {
    return absl::FailedPreconditionError(absl::StrCat("pool '", name, "' is being deleted"));
  }
  return *std::move(pool);
}

// Writes a sandbox just taken out of `pool` with its event, and counts it on the pool
// (which the caller writes).
absl::Status WriteHandedOut(sqlite3* db, const v1::Sandbox& sandbox, v1::Pool& pool,
                            absl::Time now, uint64_t* seq) {
  RETURN_IF_ERROR(UpdateSandboxRow(db, sandbox));
  ASSIGN_OR_RETURN(*seq, InsertEvent(db, PoolAssignedEvent(sandbox), now));
  pool.set_assigned(pool.assigned() + 1);
  *pool.mutable_updated_at() = ToTimestamp(now);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Pool> SqliteStore::OpenPoolForSession(const v1::Session& session) {
  ASSIGN_OR_RETURN(v1::Pool pool, ReadOpenPool(db_.get(), session.pool()));
  const std::map<std::string, std::string> pool_overrides(pool.image_overrides().begin(),
                                                          pool.image_overrides().end());
  const std::map<std::string, std::string> session_overrides(session.image_overrides().begin(),
                                                             session.image_overrides().end());
  if (pool.topology() != session.topology() ||
      pool.topology_version() != session.topology_version() ||
      pool_overrides != session_overrides) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pool: pool '", pool.name(), "' holds sandboxes of ", pool.topology(), " version ",
        pool.topology_version(), pool_overrides.empty() ? "" : " with image overrides",
        "; the session is of ", session.topology(), " version ", session.topology_version(),
        session_overrides.empty() ? "" : " with image overrides",
        "; a session draws only from a pool of the same"));
  }
  return pool;
}

absl::StatusOr<bool> SqliteStore::DrawForSession(v1::Pool& pool, const v1::Sandbox& planned,
                                                 v1::Session& session, uint64_t* seq) {
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(std::optional<v1::Sandbox> member, ReadAssignableMember(db, pool));
  if (!member.has_value()) return false;
  const absl::Time now = options_.clock();
  TakeFromPool(*member, planned.candidate(), "", session.owner(), now);
  member->set_session_id(planned.session_id());
  for (const auto& [key, value] : planned.labels()) (*member->mutable_labels())[key] = value;
  *member->mutable_expires_at() = planned.expires_at();
  RETURN_IF_ERROR(WriteHandedOut(db, *member, pool, now, seq));
  for (v1::SessionCandidate& c : *session.mutable_candidates()) {
    if (c.sandbox_id() == planned.sandbox_id()) c.set_sandbox_id(member->sandbox_id());
  }
  return true;
}

absl::StatusOr<v1::Pool> SqliteStore::CreatePool(const v1::Pool& pool) {
  if (pool.name().empty()) return absl::InvalidArgumentError("pool.name: must not be empty");
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kWrite, "create pool", [&]() -> absl::StatusOr<v1::Pool> {
    if (!pool.request_id().empty()) {
      ASSIGN_OR_RETURN(std::optional<v1::Pool> earlier, ReadPoolByRequestId(db, pool.request_id()));
      if (earlier.has_value()) return *std::move(earlier);
    }
    v1::Pool created = pool;
    const absl::Time now = options_.clock();
    if (!created.has_created_at()) *created.mutable_created_at() = ToTimestamp(now);
    *created.mutable_updated_at() = ToTimestamp(now);
    RETURN_IF_ERROR(InsertPool(db, created));
    return created;
  });
}

absl::StatusOr<v1::Pool> SqliteStore::GetPool(const std::string& name) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(std::optional<v1::Pool> pool,
                   InTransaction(db, TxKind::kRead, "get pool", [&] { return ReadPool(db, name); }));
  if (!pool.has_value()) return PoolNotFound(name);
  return *std::move(pool);
}

absl::StatusOr<std::vector<v1::Pool>> SqliteStore::ListPools() {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kRead, "list pools", [&] { return QueryPools(db); });
}

absl::StatusOr<v1::Pool> SqliteStore::UpdatePool(
    const std::string& name, const std::function<absl::Status(v1::Pool&)>& mutate) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kWrite, "update pool", [&]() -> absl::StatusOr<v1::Pool> {
    ASSIGN_OR_RETURN(std::optional<v1::Pool> current, ReadPool(db, name));
    if (!current.has_value()) return PoolNotFound(name);
    v1::Pool updated = *current;
    RETURN_IF_ERROR(mutate(updated));
    if (updated.name() != name) {
      return absl::InvalidArgumentError(
          absl::StrCat("update of pool '", name, "' changed its name to '", updated.name(), "'"));
    }
    if (SerializeDeterministic(updated) == SerializeDeterministic(*current)) return updated;
    *updated.mutable_updated_at() = ToTimestamp(options_.clock());
    RETURN_IF_ERROR(UpdatePoolRow(db, updated));
    return updated;
  });
}

absl::Status SqliteStore::RemovePool(const std::string& name) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kWrite, "remove pool", [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Pool> current, ReadPool(db, name));
    if (!current.has_value()) return absl::OkStatus();
    if (!current->deleting()) {
      return absl::FailedPreconditionError(absl::StrCat("pool '", name, "' is not being deleted"));
    }
    ASSIGN_OR_RETURN(int64_t live, CountLivePoolSandboxes(db, name));
    if (live > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("pool '", name, "' still holds ", live, " sandboxes"));
    }
    return DeletePoolRow(db, name);
  });
}

absl::StatusOr<v1::Sandbox> SqliteStore::AssignInTransaction(const PoolAssignment& a,
                                                            uint64_t* seq) {
  sqlite3* db = db_.get();
  if (!a.request_id.empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Sandbox> earlier,
                     ReadSandboxByAssignRequestId(db, a.request_id));
    if (earlier.has_value()) return ReplayAssign(a, *earlier);
  }
  ASSIGN_OR_RETURN(v1::Pool pool, ReadOpenPool(db, a.pool));
  ASSIGN_OR_RETURN(std::optional<v1::Sandbox> member, ReadAssignableMember(db, pool));
  if (!member.has_value()) {
    ASSIGN_OR_RETURN(int64_t live, CountLivePoolSandboxes(db, a.pool));
    return absl::UnavailableError(absl::StrCat(
        "pool '", a.pool, "' has no ready sandbox of its current version; ", live,
        " are being built or replaced; try again shortly"));
  }
  const absl::Time now = options_.clock();
  v1::Sandbox assigned = *std::move(member);
  TakeFromPool(assigned, a.candidate, a.request_id, a.owner, now);
  for (const auto& [key, value] : a.labels) (*assigned.mutable_labels())[key] = value;
  RETURN_IF_ERROR(WriteHandedOut(db, assigned, pool, now, seq));
  RETURN_IF_ERROR(UpdatePoolRow(db, pool));
  return assigned;
}

absl::StatusOr<v1::Sandbox> SqliteStore::AssignFromPool(const PoolAssignment& assignment) {
  absl::MutexLock lock(&mu_);
  uint64_t seq = 0;
  ASSIGN_OR_RETURN(v1::Sandbox assigned,
                   InTransaction(db_.get(), TxKind::kWrite, "assign from pool",
                                 [&] { return AssignInTransaction(assignment, &seq); }));
  Publish(seq);
  return assigned;
}

}  // namespace labrack::controller
