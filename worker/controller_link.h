// The worker's link to its controller: registers this host with LabController, then sends
// its inventory as heartbeats at the pace the controller asks for; registers again when
// the controller has forgotten the host; retries a registration with capped backoff and a
// failed heartbeat at the heartbeat's pace. A second thread rebuilds the inventory, so
// heartbeats leave on time (with the inventory's age) even while a busy libvirt makes that
// slow. Stop() is thread-safe.
#ifndef LABRACK_WORKER_CONTROLLER_LINK_H_
#define LABRACK_WORKER_CONTROLLER_LINK_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "labrack/v1/controller.grpc.pb.h"

namespace labrack::worker {

struct HostAgentOptions {
  std::string controller;  // LabController's host:port
  std::string host_id;
  std::string address;  // host:port where the controller reaches this worker's LabWorker
  // How to meet the controller (common/tls/transport_security.h); null: plain text.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  absl::Duration call_deadline = absl::Seconds(5);
  // Used when RegisterHostResponse.heartbeat_interval_ms is 0.
  absl::Duration default_heartbeat = absl::Milliseconds(2000);
  // Retries of a failed registration wait initial_backoff, doubling up to max_backoff.
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
};

// The inventory to report; called by the refresh thread once per heartbeat interval.
using InventoryFn = std::function<absl::StatusOr<v1::Inventory>()>;

class HostAgent {
 public:
  // Starts the thread, which registers at once. Never fails: an unreachable controller is
  // retried until Stop().
  static std::unique_ptr<HostAgent> Start(HostAgentOptions options, InventoryFn inventory);
  ~HostAgent() { Stop(); }

  // Ends the thread promptly: a call in flight is cancelled, a wait is cut short.
  // Idempotent; safe from any thread.
  void Stop();

 private:
  // What the last attempt found, so that each change is logged once.
  enum class LinkState { kStarting, kRegistered, kForgotten, kNoInventory, kFailing };

  HostAgent(HostAgentOptions options, InventoryFn inventory);
  void Run();
  void Refresh();
  // The latest inventory with its age; NotFound before the first one was built.
  absl::StatusOr<v1::Inventory> Latest();
  absl::Duration Step();
  absl::Status Register(const v1::Inventory& inventory);
  absl::Status Heartbeat(const v1::Inventory& inventory);
  absl::Status Call(const std::function<grpc::Status(grpc::ClientContext*)>& rpc);
  absl::Duration NextBackoff();
  bool stopping();
  void Note(LinkState state, const absl::Status& status);

  const HostAgentOptions options_;
  const InventoryFn inventory_;
  std::unique_ptr<v1::LabController::Stub> stub_;

  // Only the agent thread touches these.
  bool registered_ = false;
  absl::Duration interval_;
  absl::Duration backoff_;
  LinkState state_ = LinkState::kStarting;
  absl::StatusCode last_code_ = absl::StatusCode::kOk;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;  // the call in flight
  absl::Duration refresh_interval_ ABSL_GUARDED_BY(mu_);
  absl::StatusOr<v1::Inventory> latest_ ABSL_GUARDED_BY(mu_) =
      absl::NotFoundError("no inventory built yet");
  absl::Time built_at_ ABSL_GUARDED_BY(mu_);
  absl::Mutex join_mu_;
  std::thread thread_ ABSL_GUARDED_BY(join_mu_);
  std::thread refresher_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_CONTROLLER_LINK_H_
