// Settings shared by the controller's parts: timing of hosts and readiness, placement
// policy, and the clock (injected so tests control time). Plain data; thread-safe to read.
#ifndef LABRACK_CONTROLLER_CORE_CONTROLLER_CONFIG_H_
#define LABRACK_CONTROLLER_CORE_CONTROLLER_CONFIG_H_

#include <functional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "controller/scheduler/scheduler.h"

namespace labrack::controller {

using Clock = std::function<absl::Time()>;

struct ControllerConfig {
  SchedulerPolicy policy;
  // How often workers are asked to report.
  absl::Duration heartbeat_interval = absl::Seconds(2);
  // A host silent for longer is unreachable and its sandboxes are LOST.
  absl::Duration host_timeout = absl::Seconds(10);
  // How often the reconciler compares the store with the hosts (it also runs on demand).
  absl::Duration reconcile_interval = absl::Seconds(1);
  // How long a node may take to become ready before its sandbox FAILS.
  absl::Duration ready_timeout = absl::Seconds(180);
  // Where sessions' evidence folders go: <evidence_dir>/<session name>-<id8>/<candidate>.
  std::string evidence_dir;
  // Limits: the most live sandboxes a trainer token's name may own (0: none), and the
  // most bytes one image import may bring (0: none).
  uint32_t trainer_max_sandboxes = 200;
  uint64_t max_image_bytes = uint64_t{64} << 30;
  Clock clock = [] { return absl::Now(); };
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CORE_CONTROLLER_CONFIG_H_
