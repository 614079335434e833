// Row-level access to the controller's tables, for SqliteStore to compose into one
// transaction per Store method; none of these begins or ends a transaction. Not thread-safe:
// callers hold the connection exclusively (SqliteStore's mutex).
#ifndef LABRACK_CONTROLLER_STORE_TABLES_H_
#define LABRACK_CONTROLLER_STORE_TABLES_H_

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/proto_time.h"
#include "controller/store/store.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "labrack/v1/access.pb.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

// --- proto blobs and times (proto_blob.cc)
int64_t ToUnixMicros(const google::protobuf::Timestamp& timestamp);
// Equal messages give equal bytes (map order fixed), so bytes can be hashed and compared.
std::string SerializeDeterministic(const google::protobuf::Message& message);
// DataLoss naming `what` when the stored bytes do not parse.
absl::Status ParseBlob(const std::string& blob, google::protobuf::Message& message,
                       absl::string_view what);

// --- hosts (host_table.cc)
// Inserts the host, or updates its address, inventory and heartbeat and keeps `drained`.
absl::Status UpsertHostRow(sqlite3* db, const std::string& host_id, const std::string& address,
                           const v1::Inventory& inventory, absl::Time now);
// False when no host has that id.
absl::StatusOr<bool> UpdateHostHeartbeat(sqlite3* db, const std::string& host_id,
                                         const v1::Inventory& inventory, absl::Time now);
absl::StatusOr<bool> UpdateHostDrained(sqlite3* db, const std::string& host_id, bool drained);
// Every host, or only `host_id` when it is not empty, sorted by id, with `reserved` and
// `sandboxes` summed over the live sandboxes placed on it.
absl::StatusOr<std::vector<HostRecord>> ReadHosts(sqlite3* db, const std::string& host_id);

// --- topologies (topology_table.cc)
// Lowercase hex SHA-256 of the deterministic serialization.
std::string TopologySha256(const v1::Topology& topology);
// version 0: the latest. nullopt when absent.
absl::StatusOr<std::optional<v1::TopologyRecord>> ReadTopology(sqlite3* db, const std::string& name,
                                                               uint64_t version);
absl::Status InsertTopology(sqlite3* db, const v1::TopologyRecord& record);
// The latest version of each name, sorted by name.
absl::StatusOr<std::vector<v1::TopologyRecord>> ReadLatestTopologies(sqlite3* db);

// --- sandboxes (sandbox_table.cc)
// nullopt when absent.
absl::StatusOr<std::optional<v1::Sandbox>> ReadSandbox(sqlite3* db, const std::string& sandbox_id);
absl::StatusOr<std::optional<v1::Sandbox>> ReadSandboxByRequestId(sqlite3* db,
                                                                  const std::string& request_id);
absl::StatusOr<std::optional<v1::Topology>> ReadSandboxTopology(sqlite3* db,
                                                                const std::string& sandbox_id);
// AlreadyExists for a duplicate sandbox id or request id.
absl::Status InsertSandbox(sqlite3* db, const v1::Sandbox& sandbox, const v1::Topology& topology);
// Rewrites the row of `sandbox.sandbox_id()`, which must exist.
absl::Status UpdateSandboxRow(sqlite3* db, const v1::Sandbox& sandbox);
// Oldest first.
absl::StatusOr<std::vector<v1::Sandbox>> QuerySandboxes(sqlite3* db, const SandboxFilter& filter);

// --- sessions (session_table.cc)
// nullopt when absent.
absl::StatusOr<std::optional<v1::Session>> ReadSession(sqlite3* db, const std::string& session_id);
absl::StatusOr<std::optional<v1::Session>> ReadSessionByRequestId(sqlite3* db,
                                                                  const std::string& request_id);
// The most recent session of that name.
absl::StatusOr<std::optional<v1::Session>> ReadSessionByName(sqlite3* db, const std::string& name);
// AlreadyExists naming the field when a session of that name has not ended.
absl::Status InsertSession(sqlite3* db, const v1::Session& session);
// Rewrites the row of `session.session_id()`, which must exist.
absl::Status UpdateSessionRow(sqlite3* db, const v1::Session& session);
// Oldest first.
absl::StatusOr<std::vector<v1::Session>> QuerySessions(sqlite3* db, bool include_ended);
// The EVENT_KIND_SESSION_PHASE event for the session as it is now.
v1::Event SessionPhaseEvent(const v1::Session& session);

// --- pools (pool_table.cc)
// nullopt when absent.
absl::StatusOr<std::optional<v1::Pool>> ReadPool(sqlite3* db, const std::string& name);
absl::StatusOr<std::optional<v1::Pool>> ReadPoolByRequestId(sqlite3* db,
                                                            const std::string& request_id);
// Sorted by name.
absl::StatusOr<std::vector<v1::Pool>> QueryPools(sqlite3* db);
// AlreadyExists naming the field for a name in use.
absl::Status InsertPool(sqlite3* db, const v1::Pool& pool);
// Rewrites the row of `pool.name()`, which must exist.
absl::Status UpdatePoolRow(sqlite3* db, const v1::Pool& pool);
absl::Status DeletePoolRow(sqlite3* db, const std::string& name);
// The sandbox an assign with this request id took out of its pool; nullopt when none.
absl::StatusOr<std::optional<v1::Sandbox>> ReadSandboxByAssignRequestId(
    sqlite3* db, const std::string& request_id);
// The pool's READY idle sandboxes, oldest first.
absl::StatusOr<std::vector<v1::Sandbox>> ReadReadyPoolSandboxes(sqlite3* db,
                                                                const std::string& pool);
// The sandbox an assignment from `pool` hands out now: the oldest READY idle one whose
// pool_spec is the pool's spec and whose topology version is the topology's latest.
absl::StatusOr<std::optional<v1::Sandbox>> ReadAssignableMember(sqlite3* db, const v1::Pool& pool);
// What an assignment changes in the sandbox (the caller writes it): out of its pool, to
// the candidate, stamped.
void TakeFromPool(v1::Sandbox& sandbox, const std::string& candidate,
                  const std::string& request_id, const std::string& owner, absl::Time now);
// The EVENT_KIND_POOL_ASSIGNED event for a sandbox just handed out.
v1::Event PoolAssignedEvent(const v1::Sandbox& sandbox);
// The pool's idle sandboxes in any phase but DESTROYED.
absl::StatusOr<int64_t> CountLivePoolSandboxes(sqlite3* db, const std::string& pool);

// --- events (event_table.cc)
// Stores `event` stamped `now` and returns its seq.
absl::StatusOr<uint64_t> InsertEvent(sqlite3* db, v1::Event event, absl::Time now);
// limit 0: no limit.
absl::StatusOr<std::vector<v1::Event>> ReadEvents(sqlite3* db, uint64_t after_seq,
                                                  const std::string& sandbox_id, size_t limit);
// 0 when there are no events.
absl::StatusOr<uint64_t> LastEventSeq(sqlite3* db);
// The EVENT_KIND_SANDBOX_PHASE event for the sandbox as it is now, with its node counts.
v1::Event PhaseEvent(const v1::Sandbox& sandbox);

// --- tokens and audit (access_table.cc)
// AlreadyExists for a duplicate token id.
absl::Status InsertToken(sqlite3* db, const StoredToken& token);
// nullopt when absent.
absl::StatusOr<std::optional<StoredToken>> ReadToken(sqlite3* db, const std::string& token_id);
// Rewrites the token of `token.token_id()`, which must exist; the secret's hash stays.
absl::Status UpdateTokenRow(sqlite3* db, const v1::Token& token);
// Newest first.
absl::StatusOr<std::vector<v1::Token>> QueryTokens(sqlite3* db);
// Stores `record` stamped `now` and returns its seq.
absl::StatusOr<uint64_t> InsertAudit(sqlite3* db, v1::AuditRecord record, absl::Time now);
// Oldest first: seq > after_seq and time >= since, at most `limit`.
absl::StatusOr<std::vector<v1::AuditRecord>> ReadAudit(sqlite3* db, uint64_t after_seq,
                                                       absl::Time since, size_t limit);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_STORE_TABLES_H_
