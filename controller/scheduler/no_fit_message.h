// The text of PickHost's ResourceExhausted error: what the sandbox needs and, per reason,
// how many hosts were left out and with how much room. Pure function; thread-safe.
// Internal to the scheduler: callers use scheduler.h.
#ifndef LABRACK_CONTROLLER_SCHEDULER_NO_FIT_MESSAGE_H_
#define LABRACK_CONTROLLER_SCHEDULER_NO_FIT_MESSAGE_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "controller/scheduler/scheduler.h"
#include "labrack/v1/types.pb.h"

namespace labrack::controller::scheduler_internal {

// E.g. "no host can fit: needs 3 vCPU, 1536 MiB memory, 4096 MiB disk; of 3 hosts:
// 1 drained, 1 has sent no heartbeat for 1m (timeout 15s), 1 has only 1024 MiB memory
// free". Reasons come in a fixed order (drained, silent, vCPU, memory, disk, no disk); a
// host short of several resources counts under each. For a group of hosts short of one
// resource it gives the largest free amount among them ("3 have at most ..."), which is
// the capacity one more host would need to add. Meant for when no host fits; a host that
// fits is not mentioned.
std::string NoFitMessage(const std::vector<HostView>& hosts, const v1::Capacity& needs,
                         const SchedulerPolicy& policy, absl::Time now);

}  // namespace labrack::controller::scheduler_internal

#endif  // LABRACK_CONTROLLER_SCHEDULER_NO_FIT_MESSAGE_H_
