// Does the slow work for one sandbox on its host: sends missing images, builds or resets it
// and waits for readiness while reporting progress, or tears it down. Every step is
// idempotent on the worker (keyed by sandbox id and generation), and every store write
// checks that the sandbox is still in the phase and generation the step started from, so
// a step that lost a race changes nothing. Thread-safe; the reconciler runs at most one
// build and one destroy per sandbox at a time.
#ifndef LABRACK_CONTROLLER_RECONCILER_SANDBOX_DRIVER_H_
#define LABRACK_CONTROLLER_RECONCILER_SANDBOX_DRIVER_H_

#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/core/controller_config.h"
#include "controller/core/host_registry.h"
#include "controller/reconciler/image_distribution.h"
#include "controller/store/store.h"
#include "controller/workers/worker_client.h"

namespace labrack::controller {

class SandboxDriver {
 public:
  SandboxDriver(Store* store, HostRegistry* hosts, WorkerDirectory* workers,
                ImageDistributor* images, const ControllerConfig* config,
                std::function<bool()> stopping)
      : store_(store), hosts_(hosts), workers_(workers), images_(images), config_(config),
        stopping_(std::move(stopping)) {}

  // Takes a SCHEDULED, PROVISIONING or RESETTING sandbox to READY, or to FAILED with the
  // reason (its objects removed). A build that fails on its host is repaired once: nodes
  // that failed to come up while others did are replaced alone (a reset of those nodes, at
  // the next generation); otherwise the sandbox is torn down and built again. Returns a retryable error (Unavailable, DeadlineExceeded,
  // Cancelled) when the host could not be reached; the sandbox then keeps its phase.
  absl::Status Build(const std::string& sandbox_id);
  // Takes a DESTROYING sandbox to DESTROYED. A host that is unreachable cannot be asked:
  // the sandbox is DESTROYED at once and its leftovers are orphans removed on its return.
  absl::Status Destroy(const std::string& sandbox_id);

  // TransitionSandbox (sandbox_transition.h) on this driver's store.
  absl::StatusOr<v1::Sandbox> Transition(const std::string& sandbox_id,
                                         std::initializer_list<v1::SandboxPhase> from,
                                         uint64_t generation,
                                         const std::function<void(v1::Sandbox&)>& change);

 private:
  absl::StatusOr<v1::SandboxStatus> BuildOnHost(const v1::Sandbox& sandbox,
                                                std::shared_ptr<WorkerClient> client);
  absl::StatusOr<v1::SandboxStatus> WaitWithProgress(
      const v1::Sandbox& sandbox, WorkerClient& client,
      std::function<absl::StatusOr<v1::SandboxStatus>()> call);
  void ReportProgress(const v1::Sandbox& sandbox, const v1::SandboxStatus& status,
                      uint32_t* last_ready);
  absl::Status Finish(const v1::Sandbox& sandbox, const v1::SandboxStatus& status,
                      WorkerClient& client);
  absl::Status ReplaceNodes(const v1::Sandbox& sandbox, const std::vector<std::string>& nodes,
                            const std::string& reason);
  absl::Status Fail(const v1::Sandbox& sandbox, const std::string& reason, WorkerClient* client);

  Store* const store_;
  HostRegistry* const hosts_;
  WorkerDirectory* const workers_;
  ImageDistributor* const images_;
  const ControllerConfig* const config_;
  const std::function<bool()> stopping_;
  absl::Mutex mu_;
  // Builds that ended FAILED on the host and were retried, by sandbox id.
  std::map<std::string, int> retries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_RECONCILER_SANDBOX_DRIVER_H_
