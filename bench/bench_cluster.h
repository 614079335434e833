// The in-process setups the controller benchmark measures: a controller with one worker
// that registered with it (over a given hypervisor, or the all-in-one worker on libvirt),
// and a worker alone that no controller knows, reached through LabWorker as the controller
// would reach it. Each removes the sandboxes it holds when it goes. Not thread-safe except
// ControllerClient and the accessors' targets.
#ifndef LABRACK_BENCH_BENCH_CLUSTER_H_
#define LABRACK_BENCH_BENCH_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/bench_support.h"
#include "bench/event_watcher.h"
#include "controller/controller_server.h"
#include "labrack/v1/controller.grpc.pb.h"
#include "labrack/v1/worker.grpc.pb.h"
#include "worker/worker_server.h"

namespace labrack::bench {

// LabController calls with a deadline each, cancelled when the run is interrupted unless
// made for cleaning up after that. Thread-safe.
class ControllerClient {
 public:
  // Calls carry `token` (the controller's admin token).
  ControllerClient(int port, const std::string& token, bool interruptible = true);

  absl::Status ImportImage(const Inputs& inputs);
  absl::Status ApplyTopology(const v1::Topology& topology);
  // OK once `host_id` is registered and healthy; DeadlineExceeded after `timeout`.
  absl::Status WaitForHost(const std::string& host_id, absl::Duration timeout);
  absl::StatusOr<v1::Sandbox> Create(const std::string& topology);
  absl::StatusOr<v1::Sandbox> Get(const std::string& sandbox_id);
  absl::StatusOr<v1::Sandbox> Destroy(const std::string& sandbox_id);
  absl::StatusOr<std::vector<v1::Sandbox>> List();
  absl::StatusOr<v1::Pool> CreatePool(const std::string& name, const std::string& topology,
                                      uint32_t size);
  absl::StatusOr<v1::Pool> GetPool(const std::string& name);
  absl::StatusOr<v1::Pool> DeletePool(const std::string& name);
  absl::StatusOr<v1::Sandbox> AssignFromPool(const std::string& pool, const std::string& candidate,
                                             const std::string& request_id);
  v1::LabController::Stub& stub() { return *stub_; }

 private:
  std::unique_ptr<v1::LabController::Stub> stub_;
  const bool interruptible_;
};

struct ClusterOptions {
  std::string state_dir;  // the controller's; its worker's is <state_dir>/worker
  std::string host_id;
  std::string libvirt_uri = "qemu:///system";
  absl::Duration ready_timeout = absl::Seconds(300);
  double cpu_overcommit = 4;
  double disk_overcommit = 1;
};

class BenchCluster {
 public:
  // Starts the controller and its worker (over `hypervisor`; null: the all-in-one worker
  // on options.libvirt_uri with domain type qemu), waits until the worker is healthy,
  // imports the image and applies the topology. The image is in the worker's cache
  // beforehand, so no sandbox waits for its transfer.
  static absl::StatusOr<std::unique_ptr<BenchCluster>> Start(
      const ClusterOptions& options, const Inputs& inputs,
      std::unique_ptr<worker::Hypervisor> hypervisor);
  // Destroys every sandbox not yet destroyed (waiting up to 3 minutes), then stops.
  ~BenchCluster();

  ControllerClient& client() { return *client_; }
  int port() const { return controller_->port(); }
  // The admin token the controller's first start wrote.
  std::string admin_token() const;
  EventWatcher& events() { return *events_; }
  // The worker's own view of its sandboxes (domains running, guests ready).
  worker::SandboxManager& worker_sandboxes();
  const std::string& topology() const { return topology_; }
  // Asks for all of them to be destroyed at once and waits until each is DESTROYED.
  absl::Status DestroyAll(const std::vector<std::string>& ids, absl::Duration timeout);

 private:
  BenchCluster() = default;
  absl::Status StartWorker(const ClusterOptions& options,
                           std::unique_ptr<worker::Hypervisor> hypervisor);

  std::unique_ptr<controller::ControllerServer> controller_;
  std::unique_ptr<worker::WorkerServer> worker_;  // null for the all-in-one worker
  std::unique_ptr<ControllerClient> client_;
  std::unique_ptr<EventWatcher> events_;
  std::string topology_;
};

// A new sandbox of `topology` at generation 1, as the controller would send it.
v1::SandboxSpec NewSpec(const v1::Topology& topology);

class StandaloneWorker {
 public:
  // Starts a worker with the image in its cache and no controller. `hypervisor` null:
  // options.libvirt_uri.
  static absl::StatusOr<std::unique_ptr<StandaloneWorker>> Start(
      const worker::WorkerOptions& options, const Inputs& inputs,
      std::unique_ptr<worker::Hypervisor> hypervisor);
  // Destroys every sandbox it holds, then stops.
  ~StandaloneWorker();

  // LabWorker.CreateSandbox with wait_ready: its answer once every guest is ready (or the
  // sandbox failed); the call's status otherwise.
  absl::StatusOr<v1::SandboxStatus> CreateAndWait(const v1::SandboxSpec& spec,
                                                  absl::Duration deadline);
  // LabWorker.DestroySandbox: whether it existed.
  absl::StatusOr<bool> Destroy(const std::string& sandbox_id);

 private:
  StandaloneWorker() = default;

  std::unique_ptr<worker::WorkerServer> server_;
  std::unique_ptr<v1::LabWorker::Stub> stub_;
};

}  // namespace labrack::bench

#endif  // LABRACK_BENCH_BENCH_CLUSTER_H_
