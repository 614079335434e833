// Store on one SQLite file (WAL journal, synchronous=FULL). Thread-safe: one connection
// behind one mutex serializes every method, which SQLite would do for writers anyway and which
// costs readers little at the controller's scale; other processes on the same file wait up to
// the busy timeout. WaitForEvent wakes on events this process appends (see there).
#ifndef LABRACK_CONTROLLER_STORE_SQLITE_STORE_H_
#define LABRACK_CONTROLLER_STORE_SQLITE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "controller/store/sqlite_handle.h"
#include "controller/store/store.h"

namespace labrack::controller {

struct SqliteStoreOptions {
  // How long a call waits for another process's write lock before returning Unavailable.
  absl::Duration busy_timeout = absl::Seconds(5);
  // Stamps sandboxes' created_at and updated_at and events' time.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

class SqliteStore : public Store {
 public:
  // Opens or creates the database at `path` and brings its schema up to date.
  // FailedPrecondition when the file was written by a newer schema than this code knows or
  // cannot use WAL; Unavailable when another process holds it locked past the busy timeout;
  // Internal for other SQLite errors (e.g. a missing folder).
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                           SqliteStoreOptions options);

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Every method may also return Unavailable (the file is locked by another process past
  // the busy timeout; retry), Internal (another SQLite error) or DataLoss (a stored proto
  // no longer parses), besides the codes store.h gives.
  absl::Status UpsertHost(const std::string& host_id, const std::string& address,
                          const v1::Inventory& inventory, absl::Time now) override;
  absl::Status RecordHeartbeat(const std::string& host_id, const v1::Inventory& inventory,
                               absl::Time now) override;
  absl::StatusOr<HostRecord> GetHost(const std::string& host_id) override;
  absl::StatusOr<std::vector<HostRecord>> ListHosts() override;
  absl::StatusOr<HostRecord> SetDrained(const std::string& host_id, bool drained) override;

  absl::StatusOr<v1::TopologyRecord> PutTopology(const v1::Topology& topology,
                                                 absl::Time now) override;
  absl::StatusOr<v1::TopologyRecord> GetTopology(const std::string& name,
                                                 uint64_t version) override;
  absl::StatusOr<std::vector<v1::TopologyRecord>> ListTopologies() override;

  absl::StatusOr<v1::Sandbox> CreateSandbox(const v1::Sandbox& sandbox,
                                            const v1::Topology& topology,
                                            const PlaceFn& place) override;
  absl::StatusOr<std::vector<v1::Sandbox>> CreateSandboxes(const std::vector<v1::Sandbox>& sandboxes,
                                                           const v1::Topology& topology,
                                                           const PlaceFn& place) override;
  absl::StatusOr<v1::Sandbox> GetSandbox(const std::string& sandbox_id) override;
  absl::StatusOr<v1::Sandbox> GetSandboxByRequestId(const std::string& request_id) override;
  absl::StatusOr<v1::Topology> GetSandboxTopology(const std::string& sandbox_id) override;
  absl::StatusOr<std::vector<v1::Sandbox>> ListSandboxes(const SandboxFilter& filter) override;
  absl::StatusOr<v1::Sandbox> UpdateSandbox(const std::string& sandbox_id,
                                            const MutateFn& mutate) override;

  absl::StatusOr<v1::Session> CreateSession(const v1::Session& session,
                                            const std::vector<v1::Sandbox>& sandboxes,
                                            const v1::Topology& topology,
                                            const PlaceFn& place) override;
  absl::StatusOr<v1::Session> ReplaceSessionSandbox(const std::string& session_id,
                                                    const std::string& failed_id,
                                                    const v1::Sandbox& replacement,
                                                    const v1::Topology& topology,
                                                    const PlaceFn& place) override;
  absl::StatusOr<v1::Session> GetSession(const std::string& session_id) override;
  absl::StatusOr<v1::Session> GetSessionByName(const std::string& name) override;
  absl::StatusOr<std::vector<v1::Session>> ListSessions(bool include_ended) override;
  absl::StatusOr<v1::Session> UpdateSession(const std::string& session_id,
                                            const SessionMutateFn& mutate) override;

  absl::StatusOr<v1::Pool> CreatePool(const v1::Pool& pool) override;
  absl::StatusOr<v1::Pool> GetPool(const std::string& name) override;
  absl::StatusOr<std::vector<v1::Pool>> ListPools() override;
  absl::StatusOr<v1::Pool> UpdatePool(const std::string& name,
                                      const std::function<absl::Status(v1::Pool&)>& mutate) override;
  absl::Status RemovePool(const std::string& name) override;
  absl::StatusOr<v1::Sandbox> AssignFromPool(const PoolAssignment& assignment) override;

  absl::StatusOr<uint64_t> AppendEvent(const v1::Event& event) override;
  absl::StatusOr<std::vector<v1::Event>> ListEvents(uint64_t after_seq,
                                                    const std::string& sandbox_id,
                                                    size_t limit) override;
  // Wakes for events appended through this object. Events another process appends are
  // returned by ListEvents but do not wake a waiter before its deadline.
  void WaitForEvent(uint64_t after_seq, absl::Time deadline) override;

  // sqlite_store_access.cc
  absl::Status CreateToken(const StoredToken& token) override;
  absl::StatusOr<StoredToken> GetToken(const std::string& token_id) override;
  absl::StatusOr<std::vector<v1::Token>> ListTokens() override;
  absl::StatusOr<v1::Token> RevokeToken(const std::string& token_id, absl::Time now) override;
  absl::StatusOr<uint64_t> AppendAudit(const v1::AuditRecord& record) override;
  absl::StatusOr<std::vector<v1::AuditRecord>> ListAudit(uint64_t after_seq, absl::Time since,
                                                         size_t limit) override;

 private:
  SqliteStore(SqliteDb db, SqliteStoreOptions options, uint64_t last_seq);

  // Bodies of CreateSandbox and UpdateSandbox, inside their transaction. `*seq` is the
  // event appended, if any.
  absl::StatusOr<v1::Sandbox> CreateInTransaction(const v1::Sandbox& sandbox,
                                                  const v1::Topology& topology,
                                                  const PlaceFn& place, uint64_t* seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::Sandbox> UpdateInTransaction(const std::string& sandbox_id,
                                                  const MutateFn& mutate, uint64_t* seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::Session> CreateSessionInTransaction(
      const v1::Session& session, const std::vector<v1::Sandbox>& sandboxes,
      const v1::Topology& topology, const PlaceFn& place, uint64_t* seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::Session> ReplaceInTransaction(const std::string& session_id,
                                                   const std::string& failed_id,
                                                   const v1::Sandbox& replacement,
                                                   const v1::Topology& topology,
                                                   const PlaceFn& place, uint64_t* seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inserts `sandbox` on the host `place` picks (InvalidArgument for an unregistered one).
  absl::Status PlaceAndInsert(const v1::Sandbox& sandbox, const v1::Topology& topology,
                              const PlaceFn& place, absl::Time now, uint64_t* seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::Session> UpdateSessionInTransaction(const std::string& session_id,
                                                         const SessionMutateFn& mutate,
                                                         uint64_t* seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A session's pool (session.pool()), checked to build what the session needs.
  absl::StatusOr<v1::Pool> OpenPoolForSession(const v1::Session& session)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands an assignable sandbox of `pool` to the candidate of `planned` in its place (the
  // session's candidate entry follows); false when none is READY. The caller writes `pool`.
  absl::StatusOr<bool> DrawForSession(v1::Pool& pool, const v1::Sandbox& planned,
                                      v1::Session& session, uint64_t* seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::Sandbox> AssignInTransaction(const PoolAssignment& assignment,
                                                  uint64_t* seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::TopologyRecord> PutInTransaction(const v1::Topology& topology, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<HostRecord> ReadHost(const std::string& host_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Makes `seq` visible to WaitForEvent; call after the transaction that wrote it committed.
  void Publish(uint64_t seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SqliteStoreOptions options_;

  // Lock order: mu_, then seq_mu_. WaitForEvent takes only seq_mu_, so waiting never
  // holds up the database.
  absl::Mutex mu_;
  SqliteDb db_ ABSL_GUARDED_BY(mu_);

  absl::Mutex seq_mu_;
  uint64_t last_seq_ ABSL_GUARDED_BY(seq_mu_);
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_STORE_SQLITE_STORE_H_
