#include "controller/pools/pool_driver.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/pools/pool_members.h"
#include "spdlog/spdlog.h"

namespace labrack::controller {

absl::StatusOr<bool> PoolDriver::Advance(const std::string& pool_name) {
  absl::StatusOr<v1::Pool> read = store_->GetPool(pool_name);
  if (absl::IsNotFound(read.status())) return false;  // removed since the pass listed it
  ASSIGN_OR_RETURN(v1::Pool pool, std::move(read));
  SandboxFilter filter;
  filter.pool = pool_name;
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> members, store_->ListSandboxes(filter));
  if (pool.deleting()) return Drain(pool, members);

  absl::StatusOr<v1::Pool> latest = FollowLatest(pool);
  if (!latest.ok()) {
    RETURN_IF_ERROR(SetMessage(pool_name, absl::StrCat("cannot refill: ", latest.status().message())));
    return false;
  }
  const bool new_version = latest->spec() != pool.spec();
  pool = *std::move(latest);
  bool changed = new_version;
  int kept = 0;
  for (const v1::Sandbox& s : members) {
    switch (ClassifyMember(pool, s)) {
      case MemberState::kReady:
      case MemberState::kBuilding:
        ++kept;
        break;
      case MemberState::kStale:
        RETURN_IF_ERROR(Retire(pool, s));
        changed = true;
        break;
      case MemberState::kLeaving:
        break;
    }
  }
  const int missing = static_cast<int>(pool.size()) - kept;
  if (missing <= 0) {
    if (!pool.message().empty()) RETURN_IF_ERROR(SetMessage(pool_name, ""));
    return changed;
  }
  ASSIGN_OR_RETURN(bool created, Refill(pool, missing));
  return changed || created;
}

absl::StatusOr<bool> PoolDriver::Drain(const v1::Pool& pool,
                                       const std::vector<v1::Sandbox>& members) {
  bool changed = false;
  for (const v1::Sandbox& s : members) {
    if (ClassifyMember(pool, s) == MemberState::kLeaving) continue;
    RETURN_IF_ERROR(Retire(pool, s));
    changed = true;
  }
  if (!members.empty()) return changed;
  // Idle sandboxes are DESTROYED: the pool goes. A sandbox the store still calls live
  // (e.g. one that just left DESTROYED's filter race) keeps it for the next pass.
  absl::Status removed = store_->RemovePool(pool.name());
  if (absl::IsFailedPrecondition(removed)) return false;
  RETURN_IF_ERROR(removed);
  spdlog::info("pool {}: deleted", pool.name());
  return true;
}

absl::StatusOr<v1::Pool> PoolDriver::FollowLatest(const v1::Pool& pool) {
  ASSIGN_OR_RETURN(ResolvedTopology resolved,
                   ResolveForCreate(*topologies_, pool.topology(), 0, pool.image_overrides()));
  const std::string spec = topologies_->Spec(resolved.record, resolved.snapshot);
  if (spec == pool.spec() && resolved.record.version() == pool.topology_version()) return pool;
  spdlog::info("pool {}: now {} version {}; replacing idle sandboxes of older versions",
               pool.name(), pool.topology(), resolved.record.version());
  return store_->UpdatePool(pool.name(), [&](v1::Pool& p) {
    p.set_spec(spec);
    p.set_topology_version(resolved.record.version());
    p.set_message(absl::StrCat("replacing idle sandboxes with ones of version ",
                               resolved.record.version()));
    return absl::OkStatus();
  });
}

absl::Status PoolDriver::Retire(const v1::Pool& pool, const v1::Sandbox& sandbox) {
  absl::StatusOr<v1::Sandbox> updated =
      store_->UpdateSandbox(sandbox.sandbox_id(), [&](v1::Sandbox& s) {
        // An assign took it out of the pool since the list: it is the candidate's now.
        if (s.pool() != pool.name()) return absl::OkStatus();
        MarkForDestroy(s);
        return absl::OkStatus();
      });
  return updated.status();
}

absl::StatusOr<bool> PoolDriver::Refill(const v1::Pool& pool, int missing) {
  v1::CreateSandboxRequest request;
  request.set_topology(pool.topology());
  request.set_topology_version(pool.topology_version());
  *request.mutable_image_overrides() = pool.image_overrides();
  (*request.mutable_labels())["labrack.pool"] = pool.name();
  bool created = false;
  for (int i = 0; i < missing; ++i) {
    absl::StatusOr<v1::Sandbox> s = sandboxes_->CreateInPool(request, pool.name(), pool.spec());
    if (absl::IsResourceExhausted(s.status())) {
      RETURN_IF_ERROR(SetMessage(pool.name(), absl::StrCat(missing - i, " more wait for room: ",
                                                           s.status().message())));
      return created;
    }
    RETURN_IF_ERROR(s.status());
    created = true;
  }
  if (!pool.message().empty()) RETURN_IF_ERROR(SetMessage(pool.name(), ""));
  return created;
}

absl::Status PoolDriver::SetMessage(const std::string& pool_name, const std::string& message) {
  return store_
      ->UpdatePool(pool_name,
                   [&](v1::Pool& p) {
                     if (!p.deleting()) p.set_message(message);
                     return absl::OkStatus();
                   })
      .status();
}

}  // namespace labrack::controller
