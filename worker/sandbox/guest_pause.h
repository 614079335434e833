// Pausing guests for a moment that must not change under a reader: a freeze before the
// evidence is read, a capture while disks are copied. Thread-safe as the Hypervisor is.
#ifndef LABRACK_WORKER_SANDBOX_GUEST_PAUSE_H_
#define LABRACK_WORKER_SANDBOX_GUEST_PAUSE_H_

#include <string>

#include "absl/status/statusor.h"
#include "worker/hypervisor/hypervisor.h"

namespace labrack::worker {

// Pauses a running (or starting) domain, which makes qemu flush its disks, and returns
// true. A domain already paused, shut off or gone is left as it is: false. Otherwise the
// hypervisor's error.
absl::StatusOr<bool> PauseIfRunning(Hypervisor& hv, const std::string& name);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SANDBOX_GUEST_PAUSE_H_
