// LabController handlers for hosts: registration and heartbeats from workers, list, drain.
// Workers prove who they are with their certificate (with TLS), not a token; a refused
// heartbeat is recorded in the audit log as a refused registration.
#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/tls/transport_security.h"
#include "common/status_macros.h"
#include "controller/service/call_gate.h"
#include "controller/service/controller_service.h"

namespace labrack::controller {

namespace {

// With TLS, only the holder of a certificate the CA signed for `host_id` speaks for it.
absl::Status CheckWorkerCertificate(bool needed, grpc::CallbackServerContext& ctx,
                                    const std::string& host_id) {
  if (!needed) return absl::OkStatus();
  std::string peer = VerifiedPeerName(*ctx.auth_context());
  if (peer == host_id) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "host_id: ", host_id, " needs a client certificate for ", host_id,
      " signed by the deployment's CA; the caller's is ", peer.empty() ? "missing" : "for " + peer));
}

}  // namespace

grpc::ServerUnaryReactor* ControllerService::RegisterHost(grpc::CallbackServerContext* ctx,
                                                          const v1::RegisterHostRequest* req,
                                                          v1::RegisterHostResponse* resp) {
  return ServeUnary(
      *parts_.access, ctx, "LabController/RegisterHost", req->host_id(), Run::kDetached,
      [this, ctx, req, resp](const Caller&, std::string&) -> absl::Status {
        RETURN_IF_ERROR(CheckWorkerCertificate(parts_.workers_need_certificates, *ctx, req->host_id()));
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
  if (absl::Status s = CheckWorkerCertificate(parts_.workers_need_certificates, *ctx, req->host_id());
      !s.ok()) {
    Caller worker;
    worker.name = "worker";
    worker.peer = ctx->peer();
    parts_.access->Record(worker, "LabController/RegisterHost", req->host_id(), s);
    return FinishNow(ctx, s);
  }
  return RunDetached(ctx, [this, req] { return parts_.hosts->Heartbeat(*req); });
}

grpc::ServerUnaryReactor* ControllerService::ListHosts(grpc::CallbackServerContext* ctx,
                                                       const v1::ListHostsRequest*,
                                                       v1::ListHostsResponse* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/ListHosts", "", Run::kNow,
                    [this, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<std::vector<v1::Host>> hosts = parts_.hosts->List();
                      if (!hosts.ok()) return hosts.status();
                      for (v1::Host& h : *hosts) *resp->add_hosts() = std::move(h);
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* ControllerService::DrainHost(grpc::CallbackServerContext* ctx,
                                                       const v1::DrainHostRequest* req,
                                                       v1::Host* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/DrainHost", req->host_id(),
                    Run::kDetached, [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<v1::Host> host =
                          parts_.hosts->SetDrained(req->host_id(), req->drain());
                      if (host.ok()) *resp = *std::move(host);
                      return host.status();
                    });
}

}  // namespace labrack::controller
