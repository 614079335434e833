// LabController handlers for hosts: registration and heartbeats from workers, list, drain.
#include "common/grpc_util.h"
#include "controller/service/controller_service.h"

namespace labrack::controller {

grpc::ServerUnaryReactor* ControllerService::RegisterHost(grpc::CallbackServerContext* ctx,
                                                          const v1::RegisterHostRequest* req,
                                                          v1::RegisterHostResponse* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::RegisterHostResponse> r = parts_.hosts->Register(*req);
    if (!r.ok()) return r.status();
    *resp = *std::move(r);
    if (parts_.on_host_registered) parts_.on_host_registered();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ControllerService::Heartbeat(grpc::CallbackServerContext* ctx,
                                                       const v1::HeartbeatRequest* req,
                                                       v1::HeartbeatResponse*) {
  return RunDetached(ctx, [this, req] { return parts_.hosts->Heartbeat(*req); });
}

grpc::ServerUnaryReactor* ControllerService::ListHosts(grpc::CallbackServerContext* ctx,
                                                       const v1::ListHostsRequest*,
                                                       v1::ListHostsResponse* resp) {
  absl::StatusOr<std::vector<v1::Host>> hosts = parts_.hosts->List();
  if (hosts.ok()) {
    for (v1::Host& h : *hosts) *resp->add_hosts() = std::move(h);
  }
  return FinishNow(ctx, hosts.status());
}

grpc::ServerUnaryReactor* ControllerService::DrainHost(grpc::CallbackServerContext* ctx,
                                                       const v1::DrainHostRequest* req,
                                                       v1::Host* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::Host> host = parts_.hosts->SetDrained(req->host_id(), req->drain());
    if (host.ok()) *resp = *std::move(host);
    return host.status();
  });
}

}  // namespace labrack::controller
