// Runs a short host command (tc, unshare, nft) as a child process with a deadline, without a
// shell: arguments go to execvp as they are. Thread-safe.
#ifndef LABRACK_WORKER_HOST_HOST_COMMAND_H_
#define LABRACK_WORKER_HOST_HOST_COMMAND_H_

#include <spawn.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace labrack::worker {

// OK when argv[0] (looked up in PATH) exits 0 within `timeout`. Otherwise NotFound when it
// cannot be run, DeadlineExceeded (after killing it) when it takes longer, or Internal with
// the command line, its exit status and the start of its standard error.
absl::Status RunHostCommand(const std::vector<std::string>& argv, absl::Duration timeout);

// As RunHostCommand, with `input` on the command's standard input (none when empty) and
// its standard output (up to 4 MiB) as the result on success.
absl::StatusOr<std::string> RunHostCommandWithIo(const std::vector<std::string>& argv,
                                                 absl::string_view input, absl::Duration timeout);

// posix_spawn attributes that give a child the default signal handling: the worker
// ignores SIGPIPE and blocks SIGINT and SIGTERM in every thread, and a child would keep
// both across exec.
class DefaultSignalsForChild {
 public:
  DefaultSignalsForChild();
  ~DefaultSignalsForChild();
  DefaultSignalsForChild(const DefaultSignalsForChild&) = delete;
  DefaultSignalsForChild& operator=(const DefaultSignalsForChild&) = delete;
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HOST_HOST_COMMAND_H_
