// LabController handlers for sandboxes: create, get, list, reset, destroy. Trainers own
// what they create and list only that; a candidate's token reaches its sandbox only.
#include "common/status_macros.h"
#include "controller/access/quota.h"
#include "controller/service/call_gate.h"
#include "controller/service/controller_service.h"

namespace labrack::controller {

grpc::ServerUnaryReactor* ControllerService::CreateSandbox(grpc::CallbackServerContext* ctx,
                                                           const v1::CreateSandboxRequest* req,
                                                           v1::Sandbox* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/CreateSandbox", "", Run::kDetached,
                    [this, req, resp](const Caller& caller, std::string& target) -> absl::Status {
                      RETURN_IF_ERROR(CheckTrainerQuota(*parts_.store, caller, 1,
                                                        parts_.trainer_max_sandboxes));
                      absl::StatusOr<v1::Sandbox> s = parts_.sandboxes->Create(*req, caller.name);
                      if (!s.ok()) return s.status();
                      *resp = *std::move(s);
                      target = resp->sandbox_id();
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* ControllerService::GetSandbox(grpc::CallbackServerContext* ctx,
                                                        const v1::GetSandboxRequest* req,
                                                        v1::Sandbox* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/GetSandbox", req->sandbox_id(), Run::kNow,
                    [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<v1::Sandbox> s = parts_.sandboxes->Get(req->sandbox_id());
                      if (s.ok()) *resp = *std::move(s);
                      return s.status();
                    });
}

grpc::ServerUnaryReactor* ControllerService::ListSandboxes(grpc::CallbackServerContext* ctx,
                                                           const v1::ListSandboxesRequest* req,
                                                           v1::ListSandboxesResponse* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/ListSandboxes", "", Run::kNow,
                    [this, req, resp](const Caller& caller, std::string&) -> absl::Status {
                      absl::StatusOr<std::vector<v1::Sandbox>> list = parts_.sandboxes->List(*req);
                      if (!list.ok()) return list.status();
                      for (v1::Sandbox& s : *list) {
                        if (AccessControl::Sees(caller, s.owner())) *resp->add_sandboxes() = std::move(s);
                      }
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* ControllerService::ResetSandbox(grpc::CallbackServerContext* ctx,
                                                          const v1::ResetSandboxRequest* req,
                                                          v1::Sandbox* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/ResetSandbox", req->sandbox_id(),
                    Run::kDetached, [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<v1::Sandbox> s = parts_.sandboxes->Reset(
                          req->sandbox_id(), {req->nodes().begin(), req->nodes().end()});
                      if (s.ok()) *resp = *std::move(s);
                      return s.status();
                    });
}

grpc::ServerUnaryReactor* ControllerService::DestroySandbox(grpc::CallbackServerContext* ctx,
                                                            const v1::DestroySandboxRequest* req,
                                                            v1::Sandbox* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/DestroySandbox", req->sandbox_id(),
                    Run::kDetached, [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<v1::Sandbox> s = parts_.sandboxes->Destroy(req->sandbox_id());
                      if (s.ok()) *resp = *std::move(s);
                      return s.status();
                    });
}

}  // namespace labrack::controller
