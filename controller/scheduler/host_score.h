// The scheduler's ranking of hosts that fit: the share of memory (then of vCPUs) left after
// placing, turned toward spread or pack, plus a bonus for caching every image the sandbox
// uses. Pure functions; thread-safe. Internal to the scheduler: callers use scheduler.h.
#ifndef LABRACK_CONTROLLER_SCHEDULER_HOST_SCORE_H_
#define LABRACK_CONTROLLER_SCHEDULER_HOST_SCORE_H_

#include <cstdint>

#include "controller/scheduler/host_filter.h"
#include "controller/scheduler/scheduler.h"

namespace labrack::controller::scheduler_internal {

// Scores are integers in basis points of a host, so hosts whose loads differ by less than
// 0.01% tie exactly and fall to the next key instead of to rounding noise.
inline constexpr int64_t kWholeHost = 10000;

// Caching every image is worth 20% of a host's memory: among hosts within 20 points of
// each other it decides (no copy before boot), but it does not send a sandbox to a host
// that is much fuller (spread) or much emptier (pack) than the best one. All or nothing,
// because one missing image already means a copy before the sandbox can boot.
inline constexpr int64_t kLocalityBonus = 2000;

struct HostScore {
  // Memory score plus the locality bonus; higher wins.
  int64_t primary = 0;
  // vCPU score; decides between equal primaries.
  int64_t vcpus = 0;
};

// Only for hosts that fit: `free` must cover `needs.capacity`.
HostScore ScoreHost(const HostView& host, const FreeCapacity& free, const SandboxNeeds& needs,
                    const SchedulerPolicy& policy);

// Whether host a ranks above host b: higher primary, then higher vCPU score, then the
// smaller host id, so the order is total and independent of the order of the input.
bool RanksAbove(const HostScore& a, const HostView& host_a, const HostScore& b,
                const HostView& host_b);

}  // namespace labrack::controller::scheduler_internal

#endif  // LABRACK_CONTROLLER_SCHEDULER_HOST_SCORE_H_
