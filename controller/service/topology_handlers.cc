// LabController handlers for topologies: apply, validate, get, list.
#include "common/status_macros.h"
#include "controller/core/topology_input.h"
#include "controller/service/call_gate.h"
#include "controller/service/controller_service.h"

namespace labrack::controller {

grpc::ServerUnaryReactor* ControllerService::ApplyTopology(grpc::CallbackServerContext* ctx,
                                                           const v1::ApplyTopologyRequest* req,
                                                           v1::TopologyRecord* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/ApplyTopology", req->topology().name(),
                    Run::kDetached,
                    [this, req, resp](const Caller&, std::string& target) -> absl::Status {
                      ASSIGN_OR_RETURN(v1::Topology topology, TopologyOf(*req));
                      target = topology.name();
                      absl::StatusOr<v1::TopologyRecord> r =
                          parts_.topologies->Apply(topology, req->image_overrides());
                      if (r.ok()) *resp = *std::move(r);
                      return r.status();
                    });
}

grpc::ServerUnaryReactor* ControllerService::ValidateTopology(
    grpc::CallbackServerContext* ctx, const v1::ValidateTopologyRequest* req,
    v1::ValidateTopologyResponse* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/ValidateTopology", "", Run::kNow,
                    [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      ASSIGN_OR_RETURN(v1::Topology topology, TopologyOf(*req));
                      absl::StatusOr<v1::ValidateTopologyResponse> r =
                          parts_.topologies->Validate(topology);
                      if (r.ok()) *resp = *std::move(r);
                      return r.status();
                    });
}

grpc::ServerUnaryReactor* ControllerService::GetTopology(grpc::CallbackServerContext* ctx,
                                                         const v1::GetTopologyRequest* req,
                                                         v1::TopologyRecord* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/GetTopology", req->name(), Run::kNow,
                    [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<v1::TopologyRecord> r =
                          parts_.topologies->Get(req->name(), req->version());
                      if (r.ok()) *resp = *std::move(r);
                      return r.status();
                    });
}

grpc::ServerUnaryReactor* ControllerService::ListTopologies(grpc::CallbackServerContext* ctx,
                                                            const v1::ListTopologiesRequest*,
                                                            v1::ListTopologiesResponse* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/ListTopologies", "", Run::kNow,
                    [this, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<std::vector<v1::TopologyRecord>> r = parts_.topologies->List();
                      if (!r.ok()) return r.status();
                      for (v1::TopologyRecord& t : *r) *resp->add_topologies() = std::move(t);
                      return absl::OkStatus();
                    });
}

}  // namespace labrack::controller
