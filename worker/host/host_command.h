// Runs a short host command (tc, unshare) as a child process with a deadline, without a
// shell: arguments go to execvp as they are. Thread-safe.
#ifndef LABRACK_WORKER_HOST_HOST_COMMAND_H_
#define LABRACK_WORKER_HOST_HOST_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace labrack::worker {

// OK when argv[0] (looked up in PATH) exits 0 within `timeout`. Otherwise NotFound when it
// cannot be run, DeadlineExceeded (after killing it) when it takes longer, or Internal with
// the command line, its exit status and the start of its standard error.
absl::Status RunHostCommand(const std::vector<std::string>& argv, absl::Duration timeout);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HOST_HOST_COMMAND_H_
