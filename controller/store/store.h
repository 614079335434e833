// The controller's durable state: hosts, topologies, sandboxes and events. SqliteStore is the
// implementation; the interface leaves room for a distributed one. Every method is one
// transaction: when it returns OK the change survives a kill of the process. Thread-safe.
#ifndef LABRACK_CONTROLLER_STORE_STORE_H_
#define LABRACK_CONTROLLER_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labrack/v1/access.pb.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

// What the store knows of a host. `reserved` and `sandboxes` are computed from the live
// sandboxes placed on it (every phase but DESTROYED and FAILED).
struct HostRecord {
  v1::Host host;
  v1::Inventory inventory;  // the last one it reported
};

// Decides where a new sandbox goes, given every host with its reservations as of this
// transaction. Returns a host id, or an error (e.g. ResourceExhausted) that aborts the create.
// It runs while the store is locked, so it must not call the store.
using PlaceFn = std::function<absl::StatusOr<std::string>(const std::vector<HostRecord>&)>;

// Changes a sandbox inside a transaction. An error aborts it and is returned as is. It runs
// while the store is locked, so it must not call the store.
using MutateFn = std::function<absl::Status(v1::Sandbox&)>;
// The same for a session.
using SessionMutateFn = std::function<absl::Status(v1::Session&)>;

struct SandboxFilter {
  std::optional<v1::SandboxPhase> phase;      // asking for DESTROYED returns them regardless
  std::string host_id;                        // empty: any
  std::string candidate;                      // empty: any
  std::map<std::string, std::string> labels;  // all must match
  bool include_destroyed = false;             // without a phase: also list DESTROYED ones
  std::string session_id;                     // empty: any
  std::string pool;                           // empty: any; else the pool's idle sandboxes
};

// Who gets a sandbox from a pool (Store::AssignFromPool).
struct PoolAssignment {
  std::string pool;
  std::string candidate;
  std::map<std::string, std::string> labels;  // added to the sandbox's
  std::string request_id;                     // empty: no replay
  std::string owner;                          // the sandbox's new owner
};

// A token as stored: its public part and the sha256 (lowercase hex) of its secret.
struct StoredToken {
  v1::Token token;
  std::string secret_sha256;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- hosts
  // Creates or updates the host's address, total capacity and inventory and sets its last
  // heartbeat to `now`. Keeps `drained`. InvalidArgument for an empty id.
  virtual absl::Status UpsertHost(const std::string& host_id, const std::string& address,
                                  const v1::Inventory& inventory, absl::Time now) = 0;
  // Records a heartbeat. NotFound for a host that never registered.
  virtual absl::Status RecordHeartbeat(const std::string& host_id, const v1::Inventory& inventory,
                                       absl::Time now) = 0;
  // NotFound for an unknown host.
  virtual absl::StatusOr<HostRecord> GetHost(const std::string& host_id) = 0;
  virtual absl::StatusOr<std::vector<HostRecord>> ListHosts() = 0;
  // NotFound for an unknown host.
  virtual absl::StatusOr<HostRecord> SetDrained(const std::string& host_id, bool drained) = 0;

  // --- topologies
  // Stores `topology` under its name. Identical to the latest version: returns that
  // record unchanged; otherwise the next version (1 for a new name), stamped `now`.
  // InvalidArgument for an empty name.
  virtual absl::StatusOr<v1::TopologyRecord> PutTopology(const v1::Topology& topology,
                                                         absl::Time now) = 0;
  // version 0: the latest. NotFound when absent.
  virtual absl::StatusOr<v1::TopologyRecord> GetTopology(const std::string& name,
                                                         uint64_t version) = 0;
  // The latest version of each name, sorted by name.
  virtual absl::StatusOr<std::vector<v1::TopologyRecord>> ListTopologies() = 0;

  // --- sandboxes
  // Inserts `sandbox` (id, request id, reserved capacity and spec fields filled by the
  // caller) with `topology`, the snapshot it is built from. Its host id is what `place`
  // returns; `place` runs inside the same transaction, so concurrent creates see each
  // other's reservations and never oversubscribe a host. A sandbox with the same non-empty
  // request_id exists: returns it and does not call `place`. AlreadyExists for a duplicate
  // id; InvalidArgument for an empty id or when `place` names an unregistered host; an error
  // of `place` as is. Nothing is written on any error. Sets created_at (unless given) and
  // updated_at. Appends a phase event.
  virtual absl::StatusOr<v1::Sandbox> CreateSandbox(const v1::Sandbox& sandbox,
                                                    const v1::Topology& topology,
                                                    const PlaceFn& place) = 0;
  // CreateSandbox for several sandboxes of one `topology`, all in one transaction: each
  // `place` sees the sandboxes placed before it, so either all are written or nothing is.
  // Returned in order; one whose request_id made a sandbox already is that sandbox.
  virtual absl::StatusOr<std::vector<v1::Sandbox>> CreateSandboxes(
      const std::vector<v1::Sandbox>& sandboxes, const v1::Topology& topology,
      const PlaceFn& place) = 0;
  // NotFound for an unknown id.
  virtual absl::StatusOr<v1::Sandbox> GetSandbox(const std::string& sandbox_id) = 0;
  // The sandbox a create with this non-empty request_id made. NotFound when none did.
  virtual absl::StatusOr<v1::Sandbox> GetSandboxByRequestId(const std::string& request_id) = 0;
  // The topology a sandbox was created from, as it was then (with addresses assigned).
  virtual absl::StatusOr<v1::Topology> GetSandboxTopology(const std::string& sandbox_id) = 0;
  // Sorted by creation time, oldest first.
  virtual absl::StatusOr<std::vector<v1::Sandbox>> ListSandboxes(const SandboxFilter& filter) = 0;
  // Reads, mutates and writes one sandbox in one transaction and returns the result. When
  // phase or generation changed, appends an EVENT_KIND_SANDBOX_PHASE event with the
  // sandbox's message. Sets updated_at; a mutation that changes nothing writes nothing.
  // NotFound for an unknown id; InvalidArgument when `mutate` changes the id.
  virtual absl::StatusOr<v1::Sandbox> UpdateSandbox(const std::string& sandbox_id,
                                                    const MutateFn& mutate) = 0;

  // --- sessions
  // Inserts `session` and its `sandboxes` (each of `topology`, with id, request id and
  // reservation filled by the caller) in one transaction. `place` is called once per
  // sandbox, in order, each time with the hosts' reservations including the sandboxes placed
  // before it, so either every sandbox fits and all are written, or nothing is: an error of
  // `place` is returned as is. A session with the same non-empty request_id exists: returns
  // it and writes nothing. AlreadyExists when a session of the same name has not ENDED.
  // With session.pool() set, each candidate first gets an assignable sandbox of that pool
  // (as AssignFromPool picks it) in place of its planned one, which is then not written;
  // NotFound, FailedPrecondition (deleting) or InvalidArgument (another topology, version
  // or overrides) for the pool. Appends a phase event for each sandbox and one for the
  // session.
  virtual absl::StatusOr<v1::Session> CreateSession(const v1::Session& session,
                                                    const std::vector<v1::Sandbox>& sandboxes,
                                                    const v1::Topology& topology,
                                                    const PlaceFn& place) = 0;
  // In one transaction: the session's candidate whose sandbox `failed_id` is FAILED gets
  // `replacement` (of `topology`) in its place, drawn from the session's pool when that
  // has a READY sandbox, else placed by `place`; the failed sandbox becomes DESTROYED (its
  // host tore it down when it failed) and the candidate's `replacements` grows.
  // FailedPrecondition when that sandbox is no longer FAILED or no longer the candidate's
  // (a replacement happened already); an error of `place` as is; nothing written on error.
  virtual absl::StatusOr<v1::Session> ReplaceSessionSandbox(const std::string& session_id,
                                                            const std::string& failed_id,
                                                            const v1::Sandbox& replacement,
                                                            const v1::Topology& topology,
                                                            const PlaceFn& place) = 0;
  // NotFound for an unknown id.
  virtual absl::StatusOr<v1::Session> GetSession(const std::string& session_id) = 0;
  // The most recent session of that name. NotFound when none has it.
  virtual absl::StatusOr<v1::Session> GetSessionByName(const std::string& name) = 0;
  // Oldest first; ENDED ones only with `include_ended`.
  virtual absl::StatusOr<std::vector<v1::Session>> ListSessions(bool include_ended) = 0;
  // As UpdateSandbox, for a session: appends an EVENT_KIND_SESSION_PHASE event when its
  // phase changed.
  virtual absl::StatusOr<v1::Session> UpdateSession(const std::string& session_id,
                                                    const SessionMutateFn& mutate) = 0;

  // --- warm pools
  // Inserts `pool` (stamped created_at and updated_at). A pool with the same non-empty
  // request_id exists: returns it. AlreadyExists for a name in use (also while deleting).
  virtual absl::StatusOr<v1::Pool> CreatePool(const v1::Pool& pool) = 0;
  // NotFound for an unknown name.
  virtual absl::StatusOr<v1::Pool> GetPool(const std::string& name) = 0;
  // Sorted by name.
  virtual absl::StatusOr<std::vector<v1::Pool>> ListPools() = 0;
  // As UpdateSandbox, for a pool (no event). NotFound for an unknown name.
  virtual absl::StatusOr<v1::Pool> UpdatePool(const std::string& name,
                                              const std::function<absl::Status(v1::Pool&)>& mutate) = 0;
  // Removes a pool that is deleting and holds no live sandbox (FailedPrecondition
  // otherwise). An unknown name is OK.
  virtual absl::Status RemovePool(const std::string& name) = 0;
  // In one transaction: the oldest READY idle sandbox of the pool whose pool_spec is the
  // pool's spec and whose topology version is the topology's latest leaves the pool and
  // goes to the candidate (assigned_from_pool, assigned_at, assign_request_id set, labels
  // added), the pool's `assigned` count grows and an EVENT_KIND_POOL_ASSIGNED event is
  // appended. A sandbox already assigned with the same non-empty request_id: returned as
  // is, nothing written (InvalidArgument when it went to another candidate or pool).
  // NotFound for an unknown pool; FailedPrecondition while it is deleting; Unavailable,
  // with how many are being built, when none is ready.
  virtual absl::StatusOr<v1::Sandbox> AssignFromPool(const PoolAssignment& assignment) = 0;

  // --- events
  // Appends an event (seq and time are assigned) and returns its seq.
  virtual absl::StatusOr<uint64_t> AppendEvent(const v1::Event& event) = 0;
  // Events with seq > after_seq, oldest first, at most `limit` (0: no limit); only those
  // of `sandbox_id` when it is not empty.
  virtual absl::StatusOr<std::vector<v1::Event>> ListEvents(uint64_t after_seq,
                                                            const std::string& sandbox_id,
                                                            size_t limit) = 0;
  // Blocks until an event with seq > after_seq exists or `deadline` passes; the caller
  // then reads with ListEvents.
  virtual void WaitForEvent(uint64_t after_seq, absl::Time deadline) = 0;

  // --- tokens and the audit log
  // AlreadyExists for a token id in use.
  virtual absl::Status CreateToken(const StoredToken& token) = 0;
  // NotFound for an unknown id.
  virtual absl::StatusOr<StoredToken> GetToken(const std::string& token_id) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<v1::Token>> ListTokens() = 0;
  // Sets revoked_at to `now` unless it is set already. NotFound for an unknown id.
  virtual absl::StatusOr<v1::Token> RevokeToken(const std::string& token_id, absl::Time now) = 0;
  // Appends a record (seq and time are assigned) and returns its seq. Records are never
  // changed or removed: the database refuses it.
  virtual absl::StatusOr<uint64_t> AppendAudit(const v1::AuditRecord& record) = 0;
  // Oldest first: seq > after_seq and time >= since, at most `limit` (at least 1).
  virtual absl::StatusOr<std::vector<v1::AuditRecord>> ListAudit(uint64_t after_seq,
                                                                 absl::Time since,
                                                                 size_t limit) = 0;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_STORE_STORE_H_
