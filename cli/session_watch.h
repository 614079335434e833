// `session create --wait`, `session get --watch` and `session end --wait`: follows a
// session until it reaches the goal, showing
// "session exam-1: PROVISIONING 7/10 ready, 1 failed (c04: <message>)" as it goes. Wakes
// on each WatchSession snapshot and polls GetSession when none comes for a while.
// Not thread-safe: one call per following command.
#ifndef LABRACK_CLI_SESSION_WATCH_H_
#define LABRACK_CLI_SESSION_WATCH_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cli/controller_client.h"
#include "cli/progress_line.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::cli {

enum class SessionGoal {
  kReady,  // READY (create --wait)
  kEnded,  // ENDED (get --watch, end --wait)
};

struct FollowOptions {
  SessionGoal goal = SessionGoal::kReady;
  absl::Duration timeout = absl::Minutes(30);
  // GetSession when no snapshot came for this long (the stream broke or is not offered).
  absl::Duration poll_interval = absl::Seconds(2);
  // Checked a few times a second; true ends the follow at once with OK (Ctrl-C).
  std::function<bool()> stop;
};

// Follows the session `start` (as a call returned it). On return `*last` holds the newest
// snapshot, also on failure. OK when the goal is reached or options.stop said so. Errors
// carry an exit code (exit_codes.h):
//   kReady only: kExitSandboxFailed naming the failed candidates once every candidate's
//   sandbox is READY or FAILED and at least one FAILED; FailedPrecondition when the session
//   is ENDING or ENDED before it was READY;
//   DeadlineExceeded (kExitTimeout) after options.timeout, naming the last progress line;
//   the controller's status when GetSession fails with anything but UNAVAILABLE or
//   DEADLINE_EXCEEDED (those are retried until the timeout).
absl::Status FollowSession(ControllerClient& client, const v1::Session& start,
                           const FollowOptions& options, ProgressLine& progress, v1::Session* last);

// "session exam-1: PROVISIONING 7/10 ready, 1 failed (c04: <message>)": counts while the
// session is WAITING, PROVISIONING or READY and lists its candidates; the controller's
// message otherwise ("session exam-1: ENDING (collecting evidence)").
std::string SessionProgressText(const v1::Session& session);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_SESSION_WATCH_H_
