// Starts a whole controller in this process: SQLite store and image cache under the state
// folder, the reconciler, and the LabController and LabAccess gRPC services (with server
// reflection). On a store without tokens it writes an admin token to
// <state_dir>/admin.token (mode 0600) first. In
// all-in-one mode it also starts a worker on the local libvirt that registers with it.
// Used by labrack-controller's main and by tests. Thread-safe after Start.
#ifndef LABRACK_CONTROLLER_CONTROLLER_SERVER_H_
#define LABRACK_CONTROLLER_CONTROLLER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tls/transport_security.h"
#include "controller/access/access_control.h"
#include "controller/core/controller_config.h"
#include "controller/core/host_registry.h"
#include "controller/core/sandbox_api.h"
#include "controller/core/topology_catalog.h"
#include "controller/capture/capture_api.h"
#include "controller/pools/pool_api.h"
#include "controller/pools/pool_driver.h"
#include "controller/reconciler/image_distribution.h"
#include "controller/reconciler/reconciler.h"
#include "controller/sessions/session_api.h"
#include "controller/service/access_service.h"
#include "controller/service/controller_service.h"
#include "controller/service/reflection_v1.h"
#include "controller/store/store.h"
#include "controller/workers/worker_client.h"
#include "worker/images/image_cache.h"
#include "worker/worker_server.h"

namespace labrack::controller {

struct ControllerOptions {
  std::string listen = "127.0.0.1:7443";
  std::string state_dir;
  // When set, the bound port is written there once the server listens (for scripts and
  // tests that start it on port 0).
  std::string port_file;
  ControllerConfig config;
  // Also run a worker in this process (state under <state_dir>/worker).
  bool all_in_one = false;
  worker::WorkerOptions worker;
  // TLS (common/tls/transport_security.h): clients may come without a certificate; a worker
  // registers only with one the CA signed for its host id, and workers are called with
  // the controller's. Without it the controller serves plain text on a loopback --listen
  // only, unless tls.insecure. Not with all_in_one yet.
  TlsOptions tls;
};

class ControllerServer {
 public:
  // InvalidArgument for bad options; Unavailable when the address cannot be bound; the
  // store's error when its database cannot be opened.
  static absl::StatusOr<std::unique_ptr<ControllerServer>> Start(ControllerOptions options);
  ~ControllerServer();

  int port() const { return port_; }
  Store& store() { return *store_; }
  AccessControl& access() { return *access_; }
  // Where the first start wrote the admin token: <state_dir>/admin.token.
  std::string admin_token_path() const;
  Reconciler& reconciler() { return *reconciler_; }
  worker::WorkerServer* embedded_worker() { return worker_.get(); }
  void Wait() { server_->Wait(); }
  // Stops the embedded worker, the reconciler and the server, in that order.
  void Shutdown();

 private:
  ControllerServer() = default;
  absl::Status StartEmbeddedWorker();

  ControllerOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AccessControl> access_;
  std::unique_ptr<worker::ImageCache> images_;
  std::unique_ptr<WorkerDirectory> workers_;
  std::unique_ptr<HostRegistry> hosts_;
  std::unique_ptr<TopologyCatalog> topologies_;
  std::unique_ptr<ImageDistributor> distributor_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<SandboxApi> sandboxes_;
  std::unique_ptr<SessionApi> sessions_;
  std::unique_ptr<PoolApi> pools_;
  std::unique_ptr<PoolDriver> pool_driver_;
  std::unique_ptr<CaptureApi> captures_;
  std::unique_ptr<ControllerService> service_;
  std::unique_ptr<AccessService> access_service_;
  std::unique_ptr<ReflectionV1Service> reflection_v1_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<worker::WorkerServer> worker_;
  int port_ = 0;
  bool shut_down_ = false;
};

// Runs labrack-controller until SIGINT or SIGTERM. Returns the exit code.
int RunController(ControllerOptions options);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CONTROLLER_SERVER_H_
