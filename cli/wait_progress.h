// `--wait` of sandbox create, reset and destroy: follows a sandbox until it reaches the
// goal, showing "sandbox 1a2b3c4d: PROVISIONING 2/3 nodes ready" as it goes. Wakes up on
// each WatchEvents event and polls GetSandbox, whose answer decides.
// Not thread-safe: one call per waiting command.
#ifndef LABRACK_CLI_WAIT_PROGRESS_H_
#define LABRACK_CLI_WAIT_PROGRESS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/controller_client.h"
#include "cli/progress_line.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::cli {

enum class WaitGoal {
  kReady,      // READY at min_generation or later (create, reset)
  kDestroyed,  // DESTROYED (destroy)
};

struct WaitOptions {
  WaitGoal goal = WaitGoal::kReady;
  // kReady: earlier generations' READY does not count (a reset starts at generation + 1).
  uint64_t min_generation = 0;
  absl::Duration timeout = absl::Minutes(10);
  // GetSandbox at least this often, also while no event arrives.
  absl::Duration poll_interval = absl::Seconds(2);
};

// Waits for the sandbox `start` (as the mutating call returned it) to reach the goal and
// returns it as it is then. Errors carry an exit code (exit_codes.h): kExitSandboxFailed
// with the sandbox's message when it becomes FAILED or LOST, or is destroyed while waiting
// for READY; DeadlineExceeded (kExitTimeout) after options.timeout, naming the last phase;
// the controller's status when GetSandbox fails with anything but UNAVAILABLE or
// DEADLINE_EXCEEDED (those are retried until the timeout).
absl::StatusOr<v1::Sandbox> WaitForSandbox(ControllerClient& client, const v1::Sandbox& start,
                                           const WaitOptions& options, ProgressLine& progress);

// "sandbox 1a2b3c4d: PROVISIONING 2/3 nodes ready"; the node counts come from the sandbox
// or, while it lists no nodes yet, from `ready` and `total` (0 total: none shown).
std::string ProgressText(const v1::Sandbox& sandbox, int ready, int total);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_WAIT_PROGRESS_H_
