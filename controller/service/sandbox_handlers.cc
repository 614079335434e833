// LabController handlers for sandboxes: create, get, list, reset, destroy.
#include "common/grpc_util.h"
#include "controller/service/controller_service.h"

namespace labrack::controller {

grpc::ServerUnaryReactor* ControllerService::CreateSandbox(grpc::CallbackServerContext* ctx,
                                                           const v1::CreateSandboxRequest* req,
                                                           v1::Sandbox* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::Sandbox> s = parts_.sandboxes->Create(*req);
    if (s.ok()) *resp = *std::move(s);
    return s.status();
  });
}

grpc::ServerUnaryReactor* ControllerService::GetSandbox(grpc::CallbackServerContext* ctx,
                                                        const v1::GetSandboxRequest* req,
                                                        v1::Sandbox* resp) {
  absl::StatusOr<v1::Sandbox> s = parts_.sandboxes->Get(req->sandbox_id());
  if (s.ok()) *resp = *std::move(s);
  return FinishNow(ctx, s.status());
}

grpc::ServerUnaryReactor* ControllerService::ListSandboxes(grpc::CallbackServerContext* ctx,
                                                           const v1::ListSandboxesRequest* req,
                                                           v1::ListSandboxesResponse* resp) {
  absl::StatusOr<std::vector<v1::Sandbox>> list = parts_.sandboxes->List(*req);
  if (list.ok()) {
    for (v1::Sandbox& s : *list) *resp->add_sandboxes() = std::move(s);
  }
  return FinishNow(ctx, list.status());
}

grpc::ServerUnaryReactor* ControllerService::ResetSandbox(grpc::CallbackServerContext* ctx,
                                                          const v1::ResetSandboxRequest* req,
                                                          v1::Sandbox* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::Sandbox> s = parts_.sandboxes->Reset(
        req->sandbox_id(), {req->nodes().begin(), req->nodes().end()});
    if (s.ok()) *resp = *std::move(s);
    return s.status();
  });
}

grpc::ServerUnaryReactor* ControllerService::DestroySandbox(grpc::CallbackServerContext* ctx,
                                                            const v1::DestroySandboxRequest* req,
                                                            v1::Sandbox* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::Sandbox> s = parts_.sandboxes->Destroy(req->sandbox_id());
    if (s.ok()) *resp = *std::move(s);
    return s.status();
  });
}

}  // namespace labrack::controller
