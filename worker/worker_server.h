// Starts a whole worker in this process: libvirt connection (or an injected hypervisor),
// image cache, sandbox manager, the LabWorker gRPC server and, when a controller is named,
// the agent that registers with it. Used by labrack-worker's main, by the all-in-one
// controller and by tests. Thread-safe after Start.
#ifndef LABRACK_WORKER_WORKER_SERVER_H_
#define LABRACK_WORKER_WORKER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tls/transport_security.h"
#include "worker/controller_link.h"
#include "worker/host_id_lock.h"
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
  // Guests that may boot at once; 0: from the host's CPUs (sandbox/boot_gate.h).
  int boot_slots = 0;
  // Where templates of booted nodes are kept (sandbox/node_templates.h); empty: none, every
  // node boots. Experimental: a restored guest keeps the template's clock until the
  // identity channel is built.
  std::string template_dir;
  // The most the templates may take, in MiB; 0: no limit.
  uint64_t template_budget_mib = 4096;
  // LabController's host:port to register with and send heartbeats to; empty: none.
  std::string controller;
  // host:port where the controller reaches this worker. Empty: "127.0.0.1:<bound port>"
  // when listening on a loopback or any address (0.0.0.0, [::], no host), which suits one
  // machine only: set it when the controller runs elsewhere. Otherwise the listen host
  // with the bound port.
  std::string advertise;
  // TLS (common/tls/transport_security.h): only a caller with the controller's certificate
  // is served, and the controller is called with this worker's. Without it the worker
  // serves plain text on a loopback --listen only, unless tls.insecure.
  TlsOptions tls;
};

class WorkerServer {
 public:
  // Connects, recovers existing sandboxes, starts serving and, with options.controller,
  // starts registering with the controller. Unavailable when libvirtd is unreachable or the
  // address cannot be bound; InvalidArgument for bad options.
  static absl::StatusOr<std::unique_ptr<WorkerServer>> Start(const WorkerOptions& options);
  // The same over `hypervisor` (tests inject a FakeHypervisor); null: connects to
  // options.libvirt_uri. With one given, options.domain_type is taken as is, without a
  // probe: "kvm" or "qemu", and "auto" means qemu.
  static absl::StatusOr<std::unique_ptr<WorkerServer>> Start(
      const WorkerOptions& options, std::unique_ptr<Hypervisor> hypervisor);
  ~WorkerServer();

  int port() const { return port_; }
  // Where the controller is told to reach this worker (see WorkerOptions::advertise).
  const std::string& advertised_address() const { return advertise_; }
  SandboxManager& sandboxes() { return *sandboxes_; }
  ImageCache& images() { return *images_; }
  void Wait() { server_->Wait(); }
  // Stops the controller agent, ends open consoles, then stops serving (waiting up to 5 s
  // for calls in flight). Idempotent.
  void Shutdown();

 private:
  WorkerServer() = default;
  absl::Status Build(const WorkerOptions& options, std::unique_ptr<Hypervisor> hypervisor);
  absl::Status Serve(const WorkerOptions& options,
                     std::shared_ptr<grpc::ServerCredentials> credentials);
  void StartAgent(const WorkerOptions& options);

  std::unique_ptr<HostIdLock> host_id_lock_;
  std::unique_ptr<Hypervisor> hypervisor_;
  std::unique_ptr<ImageCache> images_;
  std::unique_ptr<SandboxManager> sandboxes_;
  std::unique_ptr<WorkerService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HostAgent> agent_;
  // How the agent meets the controller.
  std::shared_ptr<grpc::ChannelCredentials> controller_credentials_;
  int port_ = 0;
  std::string advertise_;
};

// A host id made from the host name: lowercase, [a-z0-9-], at most 24 characters.
std::string DefaultHostId();

// The address to advertise for a server listening on `listen` and bound to `port`; see
// WorkerOptions::advertise.
std::string DefaultAdvertiseAddress(const std::string& listen, int port);

// Runs labrack-worker until the process is told to stop. Returns the exit code.
int RunWorker(const WorkerOptions& options);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_WORKER_SERVER_H_
