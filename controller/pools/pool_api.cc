#include "controller/pools/pool_api.h"

#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "controller/core/sandbox_api.h"
#include "controller/pools/pool_members.h"

namespace labrack::controller {

absl::StatusOr<v1::Pool> PoolApi::Create(const v1::CreatePoolRequest& request) {
  RETURN_IF_ERROR(ValidateSessionName("name", request.name()));
  RETURN_IF_ERROR(ValidateObjectName("topology", request.topology()));
  if (request.size() < 1 || request.size() > kMaxPoolSize) {
    return absl::InvalidArgumentError(absl::StrCat("size: 1 to ", kMaxPoolSize, ", not ", request.size()));
  }
  RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  ASSIGN_OR_RETURN(ResolvedTopology resolved,
                   ResolveForCreate(*topologies_, request.topology(), 0, request.image_overrides()));
  v1::Pool pool;
  pool.set_name(request.name());
  pool.set_topology(request.topology());
  *pool.mutable_image_overrides() = request.image_overrides();
  pool.set_size(request.size());
  pool.set_topology_version(resolved.record.version());
  pool.set_spec(topologies_->Spec(resolved.record, resolved.snapshot));
  pool.set_request_id(request.request_id());
  *pool.mutable_created_at() = ToTimestamp(config_->clock());
  pool.set_message("filling");
  ASSIGN_OR_RETURN(v1::Pool created, store_->CreatePool(pool));
  wake_();
  return WithCounts(std::move(created));
}

absl::StatusOr<v1::Pool> PoolApi::Get(const std::string& name) {
  RETURN_IF_ERROR(ValidateSessionName("name", name));
  ASSIGN_OR_RETURN(v1::Pool pool, store_->GetPool(name));
  return WithCounts(std::move(pool));
}

absl::StatusOr<std::vector<v1::Pool>> PoolApi::List() {
  ASSIGN_OR_RETURN(std::vector<v1::Pool> pools, store_->ListPools());
  for (v1::Pool& pool : pools) {
    ASSIGN_OR_RETURN(pool, WithCounts(std::move(pool)));
  }
  return pools;
}

absl::StatusOr<v1::Pool> PoolApi::Delete(const std::string& name) {
  RETURN_IF_ERROR(ValidateSessionName("name", name));
  ASSIGN_OR_RETURN(v1::Pool pool, store_->UpdatePool(name, [](v1::Pool& p) {
    if (p.deleting()) return absl::OkStatus();
    p.set_deleting(true);
    p.set_message("deleting: destroying the idle sandboxes");
    return absl::OkStatus();
  }));
  wake_();
  return WithCounts(std::move(pool));
}

absl::StatusOr<v1::Sandbox> PoolApi::Assign(const v1::AssignFromPoolRequest& request,
                                            const std::string& owner) {
  RETURN_IF_ERROR(ValidateSessionName("pool", request.pool()));
  RETURN_IF_ERROR(ValidateCandidateId("candidate", request.candidate()));
  RETURN_IF_ERROR(ValidateLabels(request.labels()));
  RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  PoolAssignment assignment{request.pool(), request.candidate(),
                            {request.labels().begin(), request.labels().end()},
                            request.request_id(), owner};
  ASSIGN_OR_RETURN(v1::Sandbox sandbox, store_->AssignFromPool(assignment));
  wake_();  // the pool is one short: the refill starts now
  return sandbox;
}

absl::StatusOr<v1::Pool> PoolApi::WithCounts(v1::Pool pool) {
  SandboxFilter filter;
  filter.pool = pool.name();
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> members, store_->ListSandboxes(filter));
  PoolCounts counts = CountMembers(pool, members);
  pool.set_ready(counts.ready);
  pool.set_building(counts.building);
  pool.set_replacing(counts.replacing);
  return pool;
}

}  // namespace labrack::controller
