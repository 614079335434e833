// LabController handlers for warm pools: create, get, list, delete and assign.
#include "common/grpc_util.h"
#include "controller/service/controller_service.h"

namespace labrack::controller {

grpc::ServerUnaryReactor* ControllerService::CreatePool(grpc::CallbackServerContext* ctx,
                                                        const v1::CreatePoolRequest* req,
                                                        v1::Pool* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::Pool> p = parts_.pools->Create(*req);
    if (p.ok()) *resp = *std::move(p);
    return p.status();
  });
}

grpc::ServerUnaryReactor* ControllerService::GetPool(grpc::CallbackServerContext* ctx,
                                                     const v1::GetPoolRequest* req, v1::Pool* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::Pool> p = parts_.pools->Get(req->name());
    if (p.ok()) *resp = *std::move(p);
    return p.status();
  });
}

grpc::ServerUnaryReactor* ControllerService::ListPools(grpc::CallbackServerContext* ctx,
                                                       const v1::ListPoolsRequest*,
                                                       v1::ListPoolsResponse* resp) {
  return RunDetached(ctx, [this, resp]() -> absl::Status {
    absl::StatusOr<std::vector<v1::Pool>> pools = parts_.pools->List();
    if (!pools.ok()) return pools.status();
    for (v1::Pool& p : *pools) *resp->add_pools() = std::move(p);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControllerService::DeletePool(grpc::CallbackServerContext* ctx,
                                                        const v1::DeletePoolRequest* req,
                                                        v1::Pool* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::Pool> p = parts_.pools->Delete(req->name());
    if (p.ok()) *resp = *std::move(p);
    return p.status();
  });
}

grpc::ServerUnaryReactor* ControllerService::AssignFromPool(grpc::CallbackServerContext* ctx,
                                                            const v1::AssignFromPoolRequest* req,
                                                            v1::Sandbox* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::Sandbox> s = parts_.pools->Assign(*req);
    if (s.ok()) *resp = *std::move(s);
    return s.status();
  });
}

}  // namespace labrack::controller
