// The host side of a shaped link on a host whose kernel has netem. A guest NIC's tap device
// sends towards the guest, so netem on its root delays, drops and limits what the guest
// receives; a shaped link joins exactly two NICs, and the tap of each shapes one direction.
// Thread-safe.
#ifndef LABRACK_WORKER_HOST_HOST_NETEM_H_
#define LABRACK_WORKER_HOST_HOST_NETEM_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace labrack::worker {

// `tc qdisc replace dev DEV root netem ARGS...` for `netem_args` in tc syntax
// ("delay 30ms loss 0.1% rate 20000kbit"); replacing makes it safe to repeat.
std::vector<std::string> HostNetemCommand(const std::string& dev, const std::string& netem_args);

// Runs HostNetemCommand with a 10 s deadline.
absl::Status ShapeHostTap(const std::string& dev, const std::string& netem_args);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HOST_HOST_NETEM_H_
