// SqliteStore: each method takes the mutex, runs one transaction over the table functions of
// tables.h, and publishes the seq of any event it committed. Thread-safe (see header).
#include "controller/store/sqlite_store.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/store/schema.h"
#include "controller/store/tables.h"

namespace labrack::controller {
namespace {

absl::Status HostNotFound(const std::string& host_id) {
  return absl::NotFoundError(absl::StrCat("host '", host_id, "' is not registered"));
}

absl::Status SandboxNotFound(const std::string& sandbox_id) {
  return absl::NotFoundError(absl::StrCat("sandbox '", sandbox_id, "' not found"));
}

absl::Status SessionNotFound(const std::string& session) {
  return absl::NotFoundError(absl::StrCat("session '", session, "' not found"));
}

bool HasHost(const std::vector<HostRecord>& hosts, const std::string& host_id) {
  return std::any_of(hosts.begin(), hosts.end(),
                     [&](const HostRecord& h) { return h.host.host_id() == host_id; });
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  return Open(path, SqliteStoreOptions());
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                               SqliteStoreOptions options) {
  ASSIGN_OR_RETURN(SqliteDb db, OpenSqlite(path, options.busy_timeout));
  if (absl::Status migrated = MigrateSchema(db.get()); !migrated.ok()) {
    return absl::Status(migrated.code(),
                        absl::StrCat("open store ", path, ": ", migrated.message()));
  }
  ASSIGN_OR_RETURN(uint64_t last_seq, LastEventSeq(db.get()));
  return absl::WrapUnique(new SqliteStore(std::move(db), std::move(options), last_seq));
}

SqliteStore::SqliteStore(SqliteDb db, SqliteStoreOptions options, uint64_t last_seq)
    : options_(std::move(options)), db_(std::move(db)), last_seq_(last_seq) {}

void SqliteStore::Publish(uint64_t seq) {
  if (seq == 0) return;
  absl::MutexLock lock(&seq_mu_);
  last_seq_ = std::max(last_seq_, seq);
}

// --- hosts

absl::Status SqliteStore::UpsertHost(const std::string& host_id, const std::string& address,
                                     const v1::Inventory& inventory, absl::Time now) {
  if (host_id.empty()) return absl::InvalidArgumentError("host_id: must not be empty");
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kWrite, "upsert host",
                       [&] { return UpsertHostRow(db, host_id, address, inventory, now); });
}

absl::Status SqliteStore::RecordHeartbeat(const std::string& host_id,
                                          const v1::Inventory& inventory, absl::Time now) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kWrite, "record heartbeat", [&]() -> absl::Status {
    ASSIGN_OR_RETURN(bool found, UpdateHostHeartbeat(db, host_id, inventory, now));
    return found ? absl::OkStatus() : HostNotFound(host_id);
  });
}

absl::StatusOr<HostRecord> SqliteStore::ReadHost(const std::string& host_id) {
  if (host_id.empty()) return HostNotFound(host_id);  // "" would select every host
  ASSIGN_OR_RETURN(std::vector<HostRecord> hosts, ReadHosts(db_.get(), host_id));
  if (hosts.empty()) return HostNotFound(host_id);
  return std::move(hosts.front());
}

absl::StatusOr<HostRecord> SqliteStore::GetHost(const std::string& host_id) {
  absl::MutexLock lock(&mu_);
  return InTransaction(db_.get(), TxKind::kRead, "get host", [&] { return ReadHost(host_id); });
}

absl::StatusOr<std::vector<HostRecord>> SqliteStore::ListHosts() {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kRead, "list hosts", [&] { return ReadHosts(db, ""); });
}

absl::StatusOr<HostRecord> SqliteStore::SetDrained(const std::string& host_id, bool drained) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kWrite, "drain host", [&]() -> absl::StatusOr<HostRecord> {
    ASSIGN_OR_RETURN(bool found, UpdateHostDrained(db, host_id, drained));
    if (!found) return HostNotFound(host_id);
    return ReadHost(host_id);
  });
}

// --- topologies

absl::StatusOr<v1::TopologyRecord> SqliteStore::PutInTransaction(const v1::Topology& topology,
                                                                 absl::Time now) {
  sqlite3* db = db_.get();
  std::string sha256 = TopologySha256(topology);
  ASSIGN_OR_RETURN(std::optional<v1::TopologyRecord> latest, ReadTopology(db, topology.name(), 0));
  if (latest.has_value() && latest->sha256() == sha256) return *std::move(latest);
  v1::TopologyRecord record;
  *record.mutable_topology() = topology;
  record.set_version(latest.has_value() ? latest->version() + 1 : 1);
  record.set_sha256(sha256);
  *record.mutable_applied_at() = ToTimestamp(now);
  RETURN_IF_ERROR(InsertTopology(db, record));
  return record;
}

absl::StatusOr<v1::TopologyRecord> SqliteStore::PutTopology(const v1::Topology& topology,
                                                            absl::Time now) {
  if (topology.name().empty()) {
    return absl::InvalidArgumentError("topology.name: must not be empty");
  }
  absl::MutexLock lock(&mu_);
  return InTransaction(db_.get(), TxKind::kWrite, "put topology",
                       [&] { return PutInTransaction(topology, now); });
}

absl::StatusOr<v1::TopologyRecord> SqliteStore::GetTopology(const std::string& name,
                                                            uint64_t version) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(std::optional<v1::TopologyRecord> record,
                   InTransaction(db, TxKind::kRead, "get topology",
                                 [&] { return ReadTopology(db, name, version); }));
  if (record.has_value()) return *std::move(record);
  if (version == 0) return absl::NotFoundError(absl::StrCat("topology '", name, "' not found"));
  return absl::NotFoundError(absl::StrCat("topology '", name, "' has no version ", version));
}

absl::StatusOr<std::vector<v1::TopologyRecord>> SqliteStore::ListTopologies() {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kRead, "list topologies",
                       [&] { return ReadLatestTopologies(db); });
}

// --- sandboxes

absl::StatusOr<v1::Sandbox> SqliteStore::CreateInTransaction(const v1::Sandbox& sandbox,
                                                             const v1::Topology& topology,
                                                             const PlaceFn& place, uint64_t* seq) {
  sqlite3* db = db_.get();
  if (!sandbox.request_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Sandbox> earlier,
                     ReadSandboxByRequestId(db, sandbox.request_id()));
    if (earlier.has_value()) return *std::move(earlier);
  }
  ASSIGN_OR_RETURN(std::optional<v1::Sandbox> same_id, ReadSandbox(db, sandbox.sandbox_id()));
  if (same_id.has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat("sandbox '", sandbox.sandbox_id(), "' exists already"));
  }
  ASSIGN_OR_RETURN(std::vector<HostRecord> hosts, ReadHosts(db, ""));
  ASSIGN_OR_RETURN(std::string host_id, place(hosts));
  if (!HasHost(hosts, host_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("placement chose host '", host_id, "', which is not registered"));
  }
  v1::Sandbox created = sandbox;
  created.set_host_id(host_id);
  const absl::Time now = options_.clock();
  if (!created.has_created_at()) *created.mutable_created_at() = ToTimestamp(now);
  *created.mutable_updated_at() = ToTimestamp(now);
  RETURN_IF_ERROR(InsertSandbox(db, created, topology));
  ASSIGN_OR_RETURN(*seq, InsertEvent(db, PhaseEvent(created), now));
  return created;
}

absl::StatusOr<v1::Sandbox> SqliteStore::CreateSandbox(const v1::Sandbox& sandbox,
                                                       const v1::Topology& topology,
                                                       const PlaceFn& place) {
  if (sandbox.sandbox_id().empty()) {
    return absl::InvalidArgumentError("sandbox.sandbox_id: must not be empty");
  }
  absl::MutexLock lock(&mu_);
  uint64_t seq = 0;
  ASSIGN_OR_RETURN(v1::Sandbox created,
                   InTransaction(db_.get(), TxKind::kWrite, "create sandbox", [&] {
                     return CreateInTransaction(sandbox, topology, place, &seq);
                   }));
  Publish(seq);
  return created;
}

absl::StatusOr<std::vector<v1::Sandbox>> SqliteStore::CreateSandboxes(
    const std::vector<v1::Sandbox>& sandboxes, const v1::Topology& topology,
    const PlaceFn& place) {
  for (const v1::Sandbox& sandbox : sandboxes) {
    if (sandbox.sandbox_id().empty()) {
      return absl::InvalidArgumentError("sandbox.sandbox_id: must not be empty");
    }
  }
  absl::MutexLock lock(&mu_);
  uint64_t seq = 0;
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> created,
                   InTransaction(db_.get(), TxKind::kWrite, "create sandboxes",
                                 [&]() -> absl::StatusOr<std::vector<v1::Sandbox>> {
                                   std::vector<v1::Sandbox> out;
                                   for (const v1::Sandbox& sandbox : sandboxes) {
                                     ASSIGN_OR_RETURN(v1::Sandbox one,
                                                      CreateInTransaction(sandbox, topology,
                                                                          place, &seq));
                                     out.push_back(std::move(one));
                                   }
                                   return out;
                                 }));
  Publish(seq);
  return created;
}

absl::StatusOr<v1::Sandbox> SqliteStore::GetSandbox(const std::string& sandbox_id) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(
      std::optional<v1::Sandbox> sandbox,
      InTransaction(db, TxKind::kRead, "get sandbox", [&] { return ReadSandbox(db, sandbox_id); }));
  if (!sandbox.has_value()) return SandboxNotFound(sandbox_id);
  return *std::move(sandbox);
}

absl::StatusOr<v1::Sandbox> SqliteStore::GetSandboxByRequestId(const std::string& request_id) {
  if (request_id.empty()) return absl::NotFoundError("an empty request_id names no sandbox");
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(std::optional<v1::Sandbox> sandbox,
                   InTransaction(db, TxKind::kRead, "get sandbox by request id",
                                 [&] { return ReadSandboxByRequestId(db, request_id); }));
  if (!sandbox.has_value()) {
    return absl::NotFoundError(absl::StrCat("no sandbox was created with request_id '",
                                            request_id, "'"));
  }
  return *std::move(sandbox);
}

absl::StatusOr<v1::Topology> SqliteStore::GetSandboxTopology(const std::string& sandbox_id) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(std::optional<v1::Topology> topology,
                   InTransaction(db, TxKind::kRead, "get sandbox topology",
                                 [&] { return ReadSandboxTopology(db, sandbox_id); }));
  if (!topology.has_value()) return SandboxNotFound(sandbox_id);
  return *std::move(topology);
}

absl::StatusOr<std::vector<v1::Sandbox>> SqliteStore::ListSandboxes(const SandboxFilter& filter) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kRead, "list sandboxes",
                       [&] { return QuerySandboxes(db, filter); });
}

absl::StatusOr<v1::Sandbox> SqliteStore::UpdateInTransaction(const std::string& sandbox_id,
                                                             const MutateFn& mutate,
                                                             uint64_t* seq) {
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(std::optional<v1::Sandbox> current, ReadSandbox(db, sandbox_id));
  if (!current.has_value()) return SandboxNotFound(sandbox_id);
  v1::Sandbox updated = *current;
  RETURN_IF_ERROR(mutate(updated));
  if (updated.sandbox_id() != sandbox_id) {
    return absl::InvalidArgumentError(absl::StrCat(
        "update of sandbox '", sandbox_id, "' changed its id to '", updated.sandbox_id(), "'"));
  }
  // Reconcilers update on every poll; an unchanged sandbox costs no write and no fsync.
  if (SerializeDeterministic(updated) == SerializeDeterministic(*current)) return updated;
  const absl::Time now = options_.clock();
  *updated.mutable_updated_at() = ToTimestamp(now);
  RETURN_IF_ERROR(UpdateSandboxRow(db, updated));
  if (updated.phase() != current->phase() || updated.generation() != current->generation()) {
    ASSIGN_OR_RETURN(*seq, InsertEvent(db, PhaseEvent(updated), now));
  }
  return updated;
}

absl::StatusOr<v1::Sandbox> SqliteStore::UpdateSandbox(const std::string& sandbox_id,
                                                       const MutateFn& mutate) {
  absl::MutexLock lock(&mu_);
  uint64_t seq = 0;
  ASSIGN_OR_RETURN(v1::Sandbox updated,
                   InTransaction(db_.get(), TxKind::kWrite, "update sandbox",
                                 [&] { return UpdateInTransaction(sandbox_id, mutate, &seq); }));
  Publish(seq);
  return updated;
}

// --- sessions

absl::StatusOr<v1::Session> SqliteStore::CreateSessionInTransaction(
    const v1::Session& session, const std::vector<v1::Sandbox>& sandboxes,
    const v1::Topology& topology, const PlaceFn& place, uint64_t* seq) {
  sqlite3* db = db_.get();
  if (!session.request_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Session> earlier,
                     ReadSessionByRequestId(db, session.request_id()));
    if (earlier.has_value()) return *std::move(earlier);
  }
  const absl::Time now = options_.clock();
  v1::Session created = session;
  if (!created.has_created_at()) *created.mutable_created_at() = ToTimestamp(now);
  *created.mutable_updated_at() = ToTimestamp(now);
  RETURN_IF_ERROR(InsertSession(db, created));
  std::optional<v1::Pool> pool;
  if (!session.pool().empty()) {
    ASSIGN_OR_RETURN(pool, OpenPoolForSession(session));
  }
  for (const v1::Sandbox& sandbox : sandboxes) {
    if (pool.has_value()) {
      ASSIGN_OR_RETURN(bool drawn, DrawForSession(*pool, sandbox, created, seq));
      if (drawn) continue;
    }
    // Placed one by one: the sums include the sandboxes inserted just before.
    RETURN_IF_ERROR(PlaceAndInsert(sandbox, topology, place, now, seq));
  }
  if (pool.has_value()) {
    RETURN_IF_ERROR(UpdatePoolRow(db, *pool));
    // The candidates' entries now name the sandboxes drawn from the pool.
    RETURN_IF_ERROR(UpdateSessionRow(db, created));
  }
  ASSIGN_OR_RETURN(*seq, InsertEvent(db, SessionPhaseEvent(created), now));
  return created;
}

absl::Status SqliteStore::PlaceAndInsert(const v1::Sandbox& sandbox, const v1::Topology& topology,
                                         const PlaceFn& place, absl::Time now, uint64_t* seq) {
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(std::vector<HostRecord> hosts, ReadHosts(db, ""));
  ASSIGN_OR_RETURN(std::string host_id, place(hosts));
  if (!HasHost(hosts, host_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("placement chose host '", host_id, "', which is not registered"));
  }
  v1::Sandbox placed = sandbox;
  placed.set_host_id(host_id);
  if (!placed.has_created_at()) *placed.mutable_created_at() = ToTimestamp(now);
  *placed.mutable_updated_at() = ToTimestamp(now);
  RETURN_IF_ERROR(InsertSandbox(db, placed, topology));
  ASSIGN_OR_RETURN(*seq, InsertEvent(db, PhaseEvent(placed), now));
  return absl::OkStatus();
}

absl::StatusOr<v1::Session> SqliteStore::ReplaceInTransaction(const std::string& session_id,
                                                             const std::string& failed_id,
                                                             const v1::Sandbox& replacement,
                                                             const v1::Topology& topology,
                                                             const PlaceFn& place, uint64_t* seq) {
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(std::optional<v1::Session> read, ReadSession(db, session_id));
  if (!read.has_value()) return SessionNotFound(session_id);
  v1::Session session = *std::move(read);
  v1::SessionCandidate* candidate = nullptr;
  for (v1::SessionCandidate& c : *session.mutable_candidates()) {
    if (c.sandbox_id() == failed_id) candidate = &c;
  }
  ASSIGN_OR_RETURN(std::optional<v1::Sandbox> failed, ReadSandbox(db, failed_id));
  if (candidate == nullptr || !failed.has_value() || failed->phase() != v1::SANDBOX_PHASE_FAILED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sandbox ", failed_id, " is not a FAILED sandbox of session ", session_id, " any more"));
  }
  const absl::Time now = options_.clock();
  candidate->set_sandbox_id(replacement.sandbox_id());
  candidate->set_replacements(candidate->replacements() + 1);
  // A pool that went away or follows another version meanwhile feeds no replacement.
  std::optional<v1::Pool> pool;
  if (!session.pool().empty()) {
    absl::StatusOr<v1::Pool> open = OpenPoolForSession(session);
    if (open.ok()) {
      pool = *std::move(open);
    } else if (!absl::IsNotFound(open.status()) && !absl::IsFailedPrecondition(open.status()) &&
               !absl::IsInvalidArgument(open.status())) {
      return open.status();
    }
  }
  bool drawn = false;
  if (pool.has_value()) {
    ASSIGN_OR_RETURN(drawn, DrawForSession(*pool, replacement, session, seq));
    if (drawn) RETURN_IF_ERROR(UpdatePoolRow(db, *pool));
  }
  if (!drawn) RETURN_IF_ERROR(PlaceAndInsert(replacement, topology, place, now, seq));
  v1::Sandbox gone = *std::move(failed);
  gone.set_phase(v1::SANDBOX_PHASE_DESTROYED);
  gone.set_message(absl::StrCat("failed (", gone.message(), "); the session gave candidate ",
                                gone.candidate(), " a new sandbox"));
  *gone.mutable_updated_at() = ToTimestamp(now);
  RETURN_IF_ERROR(UpdateSandboxRow(db, gone));
  ASSIGN_OR_RETURN(*seq, InsertEvent(db, PhaseEvent(gone), now));
  *session.mutable_updated_at() = ToTimestamp(now);
  RETURN_IF_ERROR(UpdateSessionRow(db, session));
  return session;
}

absl::StatusOr<v1::Session> SqliteStore::ReplaceSessionSandbox(const std::string& session_id,
                                                              const std::string& failed_id,
                                                              const v1::Sandbox& replacement,
                                                              const v1::Topology& topology,
                                                              const PlaceFn& place) {
  absl::MutexLock lock(&mu_);
  uint64_t seq = 0;
  ASSIGN_OR_RETURN(v1::Session session,
                   InTransaction(db_.get(), TxKind::kWrite, "replace a session's sandbox", [&] {
                     return ReplaceInTransaction(session_id, failed_id, replacement, topology,
                                                 place, &seq);
                   }));
  Publish(seq);
  return session;
}

absl::StatusOr<v1::Session> SqliteStore::CreateSession(const v1::Session& session,
                                                       const std::vector<v1::Sandbox>& sandboxes,
                                                       const v1::Topology& topology,
                                                       const PlaceFn& place) {
  if (session.session_id().empty()) {
    return absl::InvalidArgumentError("session.session_id: must not be empty");
  }
  absl::MutexLock lock(&mu_);
  uint64_t seq = 0;
  ASSIGN_OR_RETURN(v1::Session created,
                   InTransaction(db_.get(), TxKind::kWrite, "create session", [&] {
                     return CreateSessionInTransaction(session, sandboxes, topology, place, &seq);
                   }));
  Publish(seq);
  return created;
}

absl::StatusOr<v1::Session> SqliteStore::GetSession(const std::string& session_id) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(
      std::optional<v1::Session> session,
      InTransaction(db, TxKind::kRead, "get session", [&] { return ReadSession(db, session_id); }));
  if (!session.has_value()) return SessionNotFound(session_id);
  return *std::move(session);
}

absl::StatusOr<v1::Session> SqliteStore::GetSessionByName(const std::string& name) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(std::optional<v1::Session> session,
                   InTransaction(db, TxKind::kRead, "get session by name",
                                 [&] { return ReadSessionByName(db, name); }));
  if (!session.has_value()) return SessionNotFound(name);
  return *std::move(session);
}

absl::StatusOr<std::vector<v1::Session>> SqliteStore::ListSessions(bool include_ended) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kRead, "list sessions",
                       [&] { return QuerySessions(db, include_ended); });
}

absl::StatusOr<v1::Session> SqliteStore::UpdateSessionInTransaction(
    const std::string& session_id, const SessionMutateFn& mutate, uint64_t* seq) {
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(std::optional<v1::Session> current, ReadSession(db, session_id));
  if (!current.has_value()) return SessionNotFound(session_id);
  v1::Session updated = *current;
  RETURN_IF_ERROR(mutate(updated));
  if (updated.session_id() != session_id) {
    return absl::InvalidArgumentError(absl::StrCat(
        "update of session '", session_id, "' changed its id to '", updated.session_id(), "'"));
  }
  if (SerializeDeterministic(updated) == SerializeDeterministic(*current)) return updated;
  const absl::Time now = options_.clock();
  *updated.mutable_updated_at() = ToTimestamp(now);
  RETURN_IF_ERROR(UpdateSessionRow(db, updated));
  if (updated.phase() != current->phase()) {
    ASSIGN_OR_RETURN(*seq, InsertEvent(db, SessionPhaseEvent(updated), now));
  }
  return updated;
}

absl::StatusOr<v1::Session> SqliteStore::UpdateSession(const std::string& session_id,
                                                       const SessionMutateFn& mutate) {
  absl::MutexLock lock(&mu_);
  uint64_t seq = 0;
  ASSIGN_OR_RETURN(v1::Session updated,
                   InTransaction(db_.get(), TxKind::kWrite, "update session",
                                 [&] { return UpdateSessionInTransaction(session_id, mutate, &seq); }));
  Publish(seq);
  return updated;
}

// --- events

absl::StatusOr<uint64_t> SqliteStore::AppendEvent(const v1::Event& event) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  ASSIGN_OR_RETURN(uint64_t seq, InTransaction(db, TxKind::kWrite, "append event", [&] {
                     return InsertEvent(db, event, options_.clock());
                   }));
  Publish(seq);
  return seq;
}

absl::StatusOr<std::vector<v1::Event>> SqliteStore::ListEvents(uint64_t after_seq,
                                                               const std::string& sandbox_id,
                                                               size_t limit) {
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  return InTransaction(db, TxKind::kRead, "list events",
                       [&] { return ReadEvents(db, after_seq, sandbox_id, limit); });
}

void SqliteStore::WaitForEvent(uint64_t after_seq, absl::Time deadline) {
  absl::MutexLock lock(&seq_mu_);
  auto arrived = [this, after_seq]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return last_seq_ > after_seq;  // Await evaluates it with seq_mu_ held
  };
  seq_mu_.AwaitWithDeadline(absl::Condition(&arrived), deadline);
}

}  // namespace labrack::controller
