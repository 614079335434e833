#include "controller/pools/pool_members.h"

namespace labrack::controller {

MemberState ClassifyMember(const v1::Pool& pool, const v1::Sandbox& sandbox) {
  switch (sandbox.phase()) {
    case v1::SANDBOX_PHASE_DESTROYING:
    case v1::SANDBOX_PHASE_DESTROYED:
      return MemberState::kLeaving;
    case v1::SANDBOX_PHASE_FAILED:
    case v1::SANDBOX_PHASE_LOST:
      return MemberState::kStale;
    default:
      break;
  }
  if (sandbox.pool_spec() != pool.spec()) return MemberState::kStale;
  return sandbox.phase() == v1::SANDBOX_PHASE_READY ? MemberState::kReady : MemberState::kBuilding;
}

PoolCounts CountMembers(const v1::Pool& pool, const std::vector<v1::Sandbox>& members) {
  PoolCounts counts;
  for (const v1::Sandbox& s : members) {
    switch (ClassifyMember(pool, s)) {
      case MemberState::kReady:
        ++counts.ready;
        break;
      case MemberState::kBuilding:
        ++counts.building;
        break;
      case MemberState::kStale:
      case MemberState::kLeaving:
        ++counts.replacing;
        break;
    }
  }
  return counts;
}

}  // namespace labrack::controller
