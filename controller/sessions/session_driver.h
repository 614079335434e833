// Moves sessions through their life, one idempotent step per call, driven by the
// reconciler (so it resumes after any restart from what the store says):
//   WAITING       at start - lead its sandboxes go PENDING -> SCHEDULED (the reconciler
//                 builds them);
//   PROVISIONING  READY once every candidate's sandbox is; a candidate's FAILED sandbox
//   / READY       is replaced by a new one (twice at most, from the session's pool when
//                 it has one READY); either phase turns ENDING at end_time;
//   ENDING        1. freeze: every built sandbox FROZEN in the store, then paused on its
//                    host, so nothing a candidate does lands after time is up;
//                 2. evidence (when the session keeps it): one folder per candidate;
//                 3. teardown: every sandbox DESTROYING (the reconciler removes them);
//                 4. check: each host asked again to remove the sandbox, which must find
//                    nothing; the report says what was found, and the session is ENDED.
// Thread-safe; the reconciler runs at most one step per session at a time.
#ifndef LABRACK_CONTROLLER_SESSIONS_SESSION_DRIVER_H_
#define LABRACK_CONTROLLER_SESSIONS_SESSION_DRIVER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/core/controller_config.h"
#include "controller/core/host_registry.h"
#include "controller/store/store.h"
#include "controller/workers/worker_client.h"

namespace labrack::controller {

class SessionDriver {
 public:
  // `wake` asks the reconciler for a pass (after sandboxes changed phase).
  SessionDriver(Store* store, HostRegistry* hosts, WorkerDirectory* workers,
                const ControllerConfig* config, std::function<void()> wake)
      : store_(store), hosts_(hosts), workers_(workers), config_(config), wake_(std::move(wake)) {}

  // One step of a session that has not ENDED. True when it changed something (the caller
  // should look again soon); a retryable error (host unreachable) leaves the step to retry.
  absl::StatusOr<bool> Advance(const std::string& session_id);

  // The folder of a session's evidence: <evidence_dir>/<name>-<id8>.
  std::string EvidenceDir(const v1::Session& session) const;

 private:
  absl::StatusOr<bool> StartProvisioning(const v1::Session& session);
  absl::StatusOr<bool> Track(const v1::Session& session);
  // Gives each candidate whose sandbox FAILED a new one (at most kMaxReplacements times),
  // from the session's pool when it has one READY. True when any was replaced.
  absl::StatusOr<bool> ReplaceFailed(const v1::Session& session);
  absl::StatusOr<bool> End(const v1::Session& session);
  absl::Status Freeze(const v1::Session& session, const std::vector<v1::Sandbox>& sandboxes);
  absl::Status Collect(const v1::Session& session, const std::vector<v1::Sandbox>& sandboxes);
  absl::StatusOr<bool> TearDown(const std::vector<v1::Sandbox>& sandboxes);
  absl::Status Finish(const v1::Session& session, const std::vector<v1::Sandbox>& sandboxes);
  // <evidence dir>/report.json, whole or not at all.
  absl::Status WriteReport(const v1::Session& session);
  // The worker of a sandbox's host, or nullptr when the host is not healthy.
  std::shared_ptr<WorkerClient> WorkerOf(const v1::Sandbox& sandbox);
  absl::StatusOr<std::vector<v1::Sandbox>> SandboxesOf(const v1::Session& session);

  Store* const store_;
  HostRegistry* const hosts_;
  WorkerDirectory* const workers_;
  const ControllerConfig* const config_;
  const std::function<void()> wake_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_SESSIONS_SESSION_DRIVER_H_
