// The LabWorker gRPC service: translates requests to SandboxManager and ImageCache calls and
// their statuses to gRPC statuses, and no more. Long calls run on their own threads so that
// gRPC's callback threads never block; consoles live in console_reactor.h. Thread-safe.
#ifndef LABRACK_WORKER_SERVICE_WORKER_SERVICE_H_
#define LABRACK_WORKER_SERVICE_WORKER_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "labrack/v1/worker.grpc.pb.h"
#include "worker/hypervisor/hypervisor.h"
#include "worker/images/image_cache.h"
#include "worker/sandbox/sandbox_manager.h"
#include "worker/service/console_reactor.h"

namespace labrack::worker {

class WorkerService final : public v1::LabWorker::CallbackService {
 public:
  WorkerService(SandboxManager* sandboxes, ImageCache* images, Hypervisor* hypervisor)
      : sandboxes_(sandboxes), images_(images), hv_(hypervisor) {}

  grpc::ServerUnaryReactor* GetInventory(grpc::CallbackServerContext* ctx,
                                         const v1::GetInventoryRequest* req,
                                         v1::Inventory* resp) override;
  grpc::ServerReadReactor<v1::EnsureImageChunk>* EnsureImage(
      grpc::CallbackServerContext* ctx, v1::EnsureImageResponse* resp) override;
  grpc::ServerUnaryReactor* CreateSandbox(grpc::CallbackServerContext* ctx,
                                          const v1::WorkerCreateSandboxRequest* req,
                                          v1::SandboxStatus* resp) override;
  grpc::ServerUnaryReactor* GetSandbox(grpc::CallbackServerContext* ctx,
                                       const v1::WorkerGetSandboxRequest* req,
                                       v1::SandboxStatus* resp) override;
  grpc::ServerUnaryReactor* ListSandboxes(grpc::CallbackServerContext* ctx,
                                          const v1::WorkerListSandboxesRequest* req,
                                          v1::WorkerListSandboxesResponse* resp) override;
  grpc::ServerUnaryReactor* ResetSandbox(grpc::CallbackServerContext* ctx,
                                         const v1::WorkerResetSandboxRequest* req,
                                         v1::SandboxStatus* resp) override;
  grpc::ServerUnaryReactor* DestroySandbox(grpc::CallbackServerContext* ctx,
                                           const v1::WorkerDestroySandboxRequest* req,
                                           v1::WorkerDestroySandboxResponse* resp) override;
  grpc::ServerUnaryReactor* FreezeSandbox(grpc::CallbackServerContext* ctx,
                                          const v1::WorkerFreezeSandboxRequest* req,
                                          v1::SandboxStatus* resp) override;
  grpc::ServerUnaryReactor* ListEvidence(grpc::CallbackServerContext* ctx,
                                         const v1::WorkerListEvidenceRequest* req,
                                         v1::WorkerListEvidenceResponse* resp) override;
  grpc::ServerUnaryReactor* ReadEvidence(grpc::CallbackServerContext* ctx,
                                         const v1::WorkerReadEvidenceRequest* req,
                                         v1::WorkerReadEvidenceResponse* resp) override;
  grpc::ServerUnaryReactor* CaptureSandbox(grpc::CallbackServerContext* ctx,
                                           const v1::WorkerCaptureSandboxRequest* req,
                                           v1::WorkerCaptureSandboxResponse* resp) override;
  grpc::ServerUnaryReactor* ReadImageBlob(grpc::CallbackServerContext* ctx,
                                          const v1::WorkerReadImageBlobRequest* req,
                                          v1::WorkerReadImageBlobResponse* resp) override;
  grpc::ServerBidiReactor<v1::ConsoleInput, v1::ConsoleOutput>* AttachConsole(
      grpc::CallbackServerContext* ctx) override;

  // Ends every open console call and refuses new ones; call before shutting the server
  // down so that it need not wait for console clients.
  void CloseConsoles() { consoles_.CloseAll(); }

 private:
  SandboxManager* sandboxes_;
  ImageCache* images_;
  Hypervisor* hv_;
  ConsoleRegistry consoles_;
};


}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SERVICE_WORKER_SERVICE_H_
