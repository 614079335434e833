// Per-trainer quota: how many live sandboxes (any phase but DESTROYED) a trainer token's
// name may own at once. Checked before a create, clone, session or assignment is placed,
// not inside its transaction: concurrent calls of one trainer may pass it by what they add
// at the same moment. Other roles have no quota (hosts' capacity still bounds them).
#ifndef LABRACK_CONTROLLER_ACCESS_QUOTA_H_
#define LABRACK_CONTROLLER_ACCESS_QUOTA_H_

#include <cstdint>

#include "absl/status/status.h"
#include "controller/access/access_control.h"
#include "controller/store/store.h"

namespace labrack::controller {

// ResourceExhausted, naming what the trainer owns, what the call adds and the quota, when
// `caller` is a trainer whose live sandboxes plus `adding` exceed `quota` (0: no quota).
absl::Status CheckTrainerQuota(Store& store, const Caller& caller, uint64_t adding,
                               uint32_t quota);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_ACCESS_QUOTA_H_
