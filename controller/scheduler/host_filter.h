// The scheduler's filter: what a host offers under overcommit, what is left after its
// reservations, and every reason it cannot take a sandbox. Pure functions; thread-safe.
// Internal to the scheduler: callers use scheduler.h.
#ifndef LABRACK_CONTROLLER_SCHEDULER_HOST_FILTER_H_
#define LABRACK_CONTROLLER_SCHEDULER_HOST_FILTER_H_

#include <cstdint>

#include "absl/time/time.h"
#include "controller/scheduler/scheduler.h"
#include "labrack/v1/types.pb.h"

namespace labrack::controller::scheduler_internal {

// Room left on a host after its reservations, in whole units. Negative when a host holds
// more than it offers, e.g. after the overcommit was lowered.
struct FreeCapacity {
  int64_t vcpus = 0;
  int64_t memory_mib = 0;
  int64_t disk_mib = 0;
};

// What a host offers of one resource: total * overcommit, rounded down to whole units so
// that the filter and the message compare and print integers. 0 for a non-positive or NaN
// overcommit.
int64_t Offered(uint64_t total, double overcommit);

FreeCapacity FreeOn(const HostView& host, const SchedulerPolicy& policy);

// Why one host cannot take a sandbox. A drained or unreachable host is not checked further;
// a live host may be short of several resources at once, and each is recorded so that the
// message tells what to add.
struct Verdict {
  bool drained = false;
  bool unreachable = false;
  bool short_vcpus = false;
  bool short_memory = false;
  bool short_disk = false;

  bool Fits() const {
    return !(drained || unreachable || short_vcpus || short_memory || short_disk);
  }
};

// A zero need never excludes a host. So a host that reports 0 MiB of disk (no storage pool
// it can measure) still takes sandboxes without blank disks, and refuses those with some.
Verdict Judge(const HostView& host, const FreeCapacity& free, const v1::Capacity& needs,
              const SchedulerPolicy& policy, absl::Time now);

// How long a host has been silent; negative when its clock runs ahead of ours.
inline absl::Duration SilenceOf(const HostView& host, absl::Time now) {
  return now - host.last_heartbeat;
}

}  // namespace labrack::controller::scheduler_internal

#endif  // LABRACK_CONTROLLER_SCHEDULER_HOST_FILTER_H_
