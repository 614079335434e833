// The controller's level-triggered loop: every pass compares the store (desired state)
// with the hosts' reports (observed state) and repairs the difference. It drives sandboxes
// in a transitional phase forward (also after any restart), marks the sandboxes of a
// silent host LOST and restores them when it returns, fails READY sandboxes whose guests
// vanished, destroys sandboxes past their expiry, removes objects a host holds that the
// store does not know (orphans), moves every session on (session_driver.h) and keeps every
// warm pool at its size (pool_driver.h).
// Passes run every reconcile_interval and on Wake(). Thread-safe.
#ifndef LABRACK_CONTROLLER_RECONCILER_RECONCILER_H_
#define LABRACK_CONTROLLER_RECONCILER_RECONCILER_H_

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "controller/core/controller_config.h"
#include "controller/core/host_registry.h"
#include "controller/reconciler/image_distribution.h"
#include "controller/reconciler/sandbox_driver.h"
#include "controller/reconciler/task_runner.h"
#include "controller/pools/pool_driver.h"
#include "controller/sessions/session_driver.h"
#include "controller/store/store.h"
#include "controller/workers/worker_client.h"

namespace labrack::controller {

class Reconciler {
 public:
  Reconciler(Store* store, HostRegistry* hosts, WorkerDirectory* workers,
             ImageDistributor* images, const ControllerConfig* config);
  ~Reconciler() { Stop(); }

  // The pools' driver, which needs the sandbox API the controller builds after the
  // reconciler. Call before Start(); without it pools are not looked after.
  void SetPoolDriver(PoolDriver* pools) { pools_ = pools; }
  // Starts the loop thread.
  void Start();
  // Ends the loop and waits for running tasks (they give up their waits promptly).
  void Stop();
  // Asks for a pass as soon as possible.
  void Wake();
  // One pass; tasks it starts run on their own threads.
  void RunOnce();

 private:
  void Loop();
  std::set<std::string> CheckHosts(const std::vector<HostRecord>& hosts, bool grace);
  void Visit(const v1::Sandbox& sandbox, const HostRecord* host, bool healthy, bool grace);
  void StartBuild(const v1::Sandbox& sandbox);
  void StartDestroy(const v1::Sandbox& sandbox);
  void StartSession(const v1::Session& session);
  void StartPool(const v1::Pool& pool);
  void Expire(const v1::Sandbox& sandbox);
  void MarkLost(const v1::Sandbox& sandbox);
  void Restore(const v1::Sandbox& sandbox, const HostRecord& host);
  // A READY sandbox its healthy host no longer reports, or reports with a node whose
  // domain is gone: FAILED.
  void CheckStillThere(const v1::Sandbox& sandbox, const HostRecord& host);
  void RemoveOrphans(const std::vector<HostRecord>& hosts, const std::set<std::string>& healthy,
                     const std::map<std::string, v1::Sandbox>& known);
  bool Due(const std::string& key);
  // Records a task's outcome (a retryable failure is tried again after a delay) and, with
  // `wake`, asks for the next pass at once.
  void Finished(const std::string& key, const absl::Status& status, bool wake = true);
  void HostEvent(v1::EventKind kind, const std::string& host_id, const std::string& message);

  Store* const store_;
  HostRegistry* const hosts_;
  WorkerDirectory* const workers_;
  const ControllerConfig* const config_;
  TaskRunner tasks_;
  SandboxDriver driver_;
  SessionDriver sessions_;
  PoolDriver* pools_ = nullptr;

  absl::Mutex mu_;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time started_ ABSL_GUARDED_BY(mu_);
  // Task keys that failed with a retryable error, and when to try them again.
  std::map<std::string, absl::Time> retry_after_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> unreachable_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_RECONCILER_RECONCILER_H_
