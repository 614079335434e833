// LabController handlers for capture and clone. Both pause guests and move disk bytes:
// seconds, off the callback threads. A trainer captures and clones its own sandboxes and
// owns the clones.
#include "common/status_macros.h"
#include "controller/access/quota.h"
#include "controller/service/call_gate.h"
#include "controller/service/controller_service.h"

namespace labrack::controller {

grpc::ServerUnaryReactor* ControllerService::CaptureSandbox(grpc::CallbackServerContext* ctx,
                                                            const v1::CaptureSandboxRequest* req,
                                                            v1::CaptureSandboxResponse* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/CaptureSandbox", req->sandbox_id(),
                    Run::kDetached, [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<std::vector<v1::Image>> images =
                          parts_.captures->Capture(req->sandbox_id(), req->image());
                      if (!images.ok()) return images.status();
                      for (v1::Image& image : *images) *resp->add_images() = std::move(image);
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* ControllerService::CloneSandbox(grpc::CallbackServerContext* ctx,
                                                          const v1::CloneSandboxRequest* req,
                                                          v1::CloneSandboxResponse* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/CloneSandbox", req->sandbox_id(),
                    Run::kDetached, [this, req, resp](const Caller& caller, std::string&) -> absl::Status {
                      RETURN_IF_ERROR(CheckTrainerQuota(*parts_.store, caller, req->count(),
                                                        parts_.trainer_max_sandboxes));
                      absl::StatusOr<v1::CloneSandboxResponse> clones =
                          parts_.captures->Clone(*req, caller.name);
                      if (clones.ok()) *resp = *std::move(clones);
                      return clones.status();
                    });
}

}  // namespace labrack::controller
