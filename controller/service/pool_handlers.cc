// LabController handlers for warm pools: create, get, list, delete and assign.
#include "common/status_macros.h"
#include "controller/access/quota.h"
#include "controller/service/call_gate.h"
#include "controller/service/controller_service.h"

namespace labrack::controller {

grpc::ServerUnaryReactor* ControllerService::CreatePool(grpc::CallbackServerContext* ctx,
                                                        const v1::CreatePoolRequest* req,
                                                        v1::Pool* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/CreatePool", req->name(), Run::kDetached,
                    [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<v1::Pool> p = parts_.pools->Create(*req);
                      if (p.ok()) *resp = *std::move(p);
                      return p.status();
                    });
}

grpc::ServerUnaryReactor* ControllerService::GetPool(grpc::CallbackServerContext* ctx,
                                                     const v1::GetPoolRequest* req, v1::Pool* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/GetPool", req->name(), Run::kDetached,
                    [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<v1::Pool> p = parts_.pools->Get(req->name());
                      if (p.ok()) *resp = *std::move(p);
                      return p.status();
                    });
}

grpc::ServerUnaryReactor* ControllerService::ListPools(grpc::CallbackServerContext* ctx,
                                                       const v1::ListPoolsRequest*,
                                                       v1::ListPoolsResponse* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/ListPools", "", Run::kDetached,
                    [this, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<std::vector<v1::Pool>> pools = parts_.pools->List();
                      if (!pools.ok()) return pools.status();
                      for (v1::Pool& p : *pools) *resp->add_pools() = std::move(p);
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* ControllerService::DeletePool(grpc::CallbackServerContext* ctx,
                                                        const v1::DeletePoolRequest* req,
                                                        v1::Pool* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/DeletePool", req->name(), Run::kDetached,
                    [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<v1::Pool> p = parts_.pools->Delete(req->name());
                      if (p.ok()) *resp = *std::move(p);
                      return p.status();
                    });
}

grpc::ServerUnaryReactor* ControllerService::AssignFromPool(grpc::CallbackServerContext* ctx,
                                                            const v1::AssignFromPoolRequest* req,
                                                            v1::Sandbox* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/AssignFromPool", req->pool(),
                    Run::kDetached, [this, req, resp](const Caller& caller, std::string& target) -> absl::Status {
                      RETURN_IF_ERROR(CheckTrainerQuota(*parts_.store, caller, 1,
                                                        parts_.trainer_max_sandboxes));
                      absl::StatusOr<v1::Sandbox> s = parts_.pools->Assign(*req, caller.name);
                      if (!s.ok()) return s.status();
                      *resp = *std::move(s);
                      target = resp->sandbox_id();
                      return absl::OkStatus();
                    });
}

}  // namespace labrack::controller
