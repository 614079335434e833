// Starts a whole worker in this process: libvirt connection, image cache, sandbox manager
// and the LabWorker gRPC server. Used by labrack-worker's main, by the all-in-one
// controller and by tests. Thread-safe after Start.
#ifndef LABRACK_WORKER_WORKER_SERVER_H_
#define LABRACK_WORKER_WORKER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "worker/hypervisor/hypervisor.h"
#include "worker/images/image_cache.h"
#include "worker/sandbox/sandbox_manager.h"
#include "worker/service/worker_service.h"

namespace labrack::worker {

struct WorkerOptions {
  std::string listen = "127.0.0.1:0";  // port 0: any free port (see WorkerServer::port)
  std::string libvirt_uri = "qemu:///system";
  std::string state_dir;
  std::string host_id;            // empty: derived from the host name
  std::string domain_type = "auto";  // auto | kvm | qemu
  absl::Duration ready_timeout = absl::Seconds(120);
};

class WorkerServer {
 public:
  // Connects, recovers existing sandboxes and starts serving. Unavailable when libvirtd is
  // unreachable; InvalidArgument for bad options.
  static absl::StatusOr<std::unique_ptr<WorkerServer>> Start(const WorkerOptions& options);
  ~WorkerServer();

  int port() const { return port_; }
  SandboxManager& sandboxes() { return *sandboxes_; }
  ImageCache& images() { return *images_; }
  void Wait() { server_->Wait(); }
  void Shutdown();

 private:
  WorkerServer() = default;

  std::unique_ptr<Hypervisor> hypervisor_;
  std::unique_ptr<ImageCache> images_;
  std::unique_ptr<SandboxManager> sandboxes_;
  std::unique_ptr<WorkerService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// A host id made from the host name: lowercase, [a-z0-9-], at most 24 characters.
std::string DefaultHostId();

// Runs labrack-worker until the process is told to stop. Returns the exit code.
int RunWorker(const WorkerOptions& options);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_WORKER_SERVER_H_
