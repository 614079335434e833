// The LabController gRPC service: each handler translates its request to a call on the
// controller's parts and the result to a gRPC status, and no more. Streams (image import,
// event watch, console relay) have reactors in their own files. Thread-safe.
#ifndef LABRACK_CONTROLLER_SERVICE_CONTROLLER_SERVICE_H_
#define LABRACK_CONTROLLER_SERVICE_CONTROLLER_SERVICE_H_

#include <functional>

#include "controller/access/access_control.h"
#include "controller/capture/capture_api.h"
#include "controller/core/host_registry.h"
#include "controller/core/sandbox_api.h"
#include "controller/core/topology_catalog.h"
#include "controller/pools/pool_api.h"
#include "controller/sessions/session_api.h"
#include "controller/store/store.h"
#include "controller/workers/worker_client.h"
#include "labrack/v1/controller.grpc.pb.h"
#include "worker/images/image_cache.h"

namespace labrack::controller {

// What the handlers call. Not owned.
struct ServiceParts {
  Store* store = nullptr;
  // Admits every call but a worker's heartbeat, and keeps the audit log.
  AccessControl* access = nullptr;
  HostRegistry* hosts = nullptr;
  worker::ImageCache* images = nullptr;
  TopologyCatalog* topologies = nullptr;
  SandboxApi* sandboxes = nullptr;
  SessionApi* sessions = nullptr;
  PoolApi* pools = nullptr;
  CaptureApi* captures = nullptr;
  WorkerDirectory* workers = nullptr;
  // Called when a host (re)registers, so LOST sandboxes are looked at at once.
  std::function<void()> on_host_registered;
  // With TLS: RegisterHost and Heartbeat need the worker's certificate, named by its host id.
  bool workers_need_certificates = false;
  // The most live sandboxes one trainer may own (controller/access/quota.h).
  uint32_t trainer_max_sandboxes = 0;
};

class ControllerService final : public v1::LabController::CallbackService {
 public:
  explicit ControllerService(ServiceParts parts) : parts_(std::move(parts)) {}

  grpc::ServerUnaryReactor* RegisterHost(grpc::CallbackServerContext* ctx,
                                         const v1::RegisterHostRequest* req,
                                         v1::RegisterHostResponse* resp) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const v1::HeartbeatRequest* req,
                                      v1::HeartbeatResponse* resp) override;
  grpc::ServerUnaryReactor* ListHosts(grpc::CallbackServerContext* ctx,
                                      const v1::ListHostsRequest* req,
                                      v1::ListHostsResponse* resp) override;
  grpc::ServerUnaryReactor* DrainHost(grpc::CallbackServerContext* ctx,
                                      const v1::DrainHostRequest* req, v1::Host* resp) override;

  grpc::ServerReadReactor<v1::EnsureImageChunk>* ImportImage(grpc::CallbackServerContext* ctx,
                                                             v1::Image* resp) override;
  grpc::ServerUnaryReactor* ListImages(grpc::CallbackServerContext* ctx,
                                       const v1::ListImagesRequest* req,
                                       v1::ListImagesResponse* resp) override;

  grpc::ServerUnaryReactor* ApplyTopology(grpc::CallbackServerContext* ctx,
                                          const v1::ApplyTopologyRequest* req,
                                          v1::TopologyRecord* resp) override;
  grpc::ServerUnaryReactor* ValidateTopology(grpc::CallbackServerContext* ctx,
                                             const v1::ValidateTopologyRequest* req,
                                             v1::ValidateTopologyResponse* resp) override;
  grpc::ServerUnaryReactor* GetTopology(grpc::CallbackServerContext* ctx,
                                        const v1::GetTopologyRequest* req,
                                        v1::TopologyRecord* resp) override;
  grpc::ServerUnaryReactor* ListTopologies(grpc::CallbackServerContext* ctx,
                                           const v1::ListTopologiesRequest* req,
                                           v1::ListTopologiesResponse* resp) override;

  grpc::ServerUnaryReactor* CreateSandbox(grpc::CallbackServerContext* ctx,
                                          const v1::CreateSandboxRequest* req,
                                          v1::Sandbox* resp) override;
  grpc::ServerUnaryReactor* GetSandbox(grpc::CallbackServerContext* ctx,
                                       const v1::GetSandboxRequest* req, v1::Sandbox* resp) override;
  grpc::ServerUnaryReactor* ListSandboxes(grpc::CallbackServerContext* ctx,
                                          const v1::ListSandboxesRequest* req,
                                          v1::ListSandboxesResponse* resp) override;
  grpc::ServerUnaryReactor* ResetSandbox(grpc::CallbackServerContext* ctx,
                                         const v1::ResetSandboxRequest* req,
                                         v1::Sandbox* resp) override;
  grpc::ServerUnaryReactor* DestroySandbox(grpc::CallbackServerContext* ctx,
                                           const v1::DestroySandboxRequest* req,
                                           v1::Sandbox* resp) override;

  grpc::ServerUnaryReactor* CaptureSandbox(grpc::CallbackServerContext* ctx,
                                           const v1::CaptureSandboxRequest* req,
                                           v1::CaptureSandboxResponse* resp) override;
  grpc::ServerUnaryReactor* CloneSandbox(grpc::CallbackServerContext* ctx,
                                         const v1::CloneSandboxRequest* req,
                                         v1::CloneSandboxResponse* resp) override;
  grpc::ServerWriteReactor<v1::Event>* WatchEvents(grpc::CallbackServerContext* ctx,
                                                   const v1::WatchEventsRequest* req) override;
  grpc::ServerBidiReactor<v1::ConsoleInput, v1::ConsoleOutput>* AttachConsole(
      grpc::CallbackServerContext* ctx) override;

  grpc::ServerUnaryReactor* CreateSession(grpc::CallbackServerContext* ctx,
                                          const v1::CreateSessionRequest* req,
                                          v1::Session* resp) override;
  grpc::ServerUnaryReactor* GetSession(grpc::CallbackServerContext* ctx,
                                       const v1::GetSessionRequest* req, v1::Session* resp) override;
  grpc::ServerUnaryReactor* ListSessions(grpc::CallbackServerContext* ctx,
                                         const v1::ListSessionsRequest* req,
                                         v1::ListSessionsResponse* resp) override;
  grpc::ServerUnaryReactor* EndSession(grpc::CallbackServerContext* ctx,
                                       const v1::EndSessionRequest* req, v1::Session* resp) override;
  grpc::ServerWriteReactor<v1::Session>* WatchSession(grpc::CallbackServerContext* ctx,
                                                      const v1::GetSessionRequest* req) override;

  grpc::ServerUnaryReactor* CreatePool(grpc::CallbackServerContext* ctx,
                                       const v1::CreatePoolRequest* req, v1::Pool* resp) override;
  grpc::ServerUnaryReactor* GetPool(grpc::CallbackServerContext* ctx,
                                    const v1::GetPoolRequest* req, v1::Pool* resp) override;
  grpc::ServerUnaryReactor* ListPools(grpc::CallbackServerContext* ctx,
                                      const v1::ListPoolsRequest* req,
                                      v1::ListPoolsResponse* resp) override;
  grpc::ServerUnaryReactor* DeletePool(grpc::CallbackServerContext* ctx,
                                       const v1::DeletePoolRequest* req, v1::Pool* resp) override;
  grpc::ServerUnaryReactor* AssignFromPool(grpc::CallbackServerContext* ctx,
                                           const v1::AssignFromPoolRequest* req,
                                           v1::Sandbox* resp) override;

 private:
  ServiceParts parts_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_SERVICE_CONTROLLER_SERVICE_H_
