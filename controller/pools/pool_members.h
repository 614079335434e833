// How a pool's idle sandboxes stand against the pool's current spec: the one rule the pool
// API's counts and the pool driver's refill share.
#ifndef LABRACK_CONTROLLER_POOLS_POOL_MEMBERS_H_
#define LABRACK_CONTROLLER_POOLS_POOL_MEMBERS_H_

#include <cstdint>
#include <vector>

#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

enum class MemberState {
  kReady,     // READY, of the current spec: can be handed out
  kBuilding,  // of the current spec, on its way to READY
  kStale,     // of an older spec, FAILED or LOST: to be replaced
  kLeaving,   // DESTROYING (or DESTROYED)
};

MemberState ClassifyMember(const v1::Pool& pool, const v1::Sandbox& sandbox);

struct PoolCounts {
  uint32_t ready = 0;
  uint32_t building = 0;
  uint32_t replacing = 0;  // stale and leaving
};

PoolCounts CountMembers(const v1::Pool& pool, const std::vector<v1::Sandbox>& members);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_POOLS_POOL_MEMBERS_H_
