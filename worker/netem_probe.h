// Decides whether the host kernel can delay and drop packets itself (the netem qdisc), or
// whether shaped links need the link-emulator guest. Some kernels (e.g. this project's CI
// host) have htb and tbf but no netem. Stateless; thread-safe.
#ifndef LABRACK_WORKER_NETEM_PROBE_H_
#define LABRACK_WORKER_NETEM_PROBE_H_

#include <string>

#include "absl/time/time.h"

namespace labrack::worker {

struct NetemProbeResult {
  bool available = false;
  // Why, for the log.
  std::string reason;
};

// Adds a netem qdisc to the loopback device of a private, throw-away network namespace
// (`unshare --net tc qdisc add dev lo root netem delay 1ms`), so the host's own devices are
// never touched. Unavailable when that fails, when tc or unshare is missing, without the
// right to make a namespace, or after `timeout`. Loads no module itself.
NetemProbeResult ProbeHostNetem(const std::string& unshare_binary = "unshare",
                                absl::Duration timeout = absl::Seconds(5));

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_NETEM_PROBE_H_
