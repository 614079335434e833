// Runs a helper program (such as graphviz's dot) with bytes on its stdin and collects its
// stdout and stderr, with a deadline. Thread-compatible: blocks SIGPIPE only in the calling
// thread while it writes.
#ifndef LABRACK_CLI_SUBPROCESS_H_
#define LABRACK_CLI_SUBPROCESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace labrack::cli {

struct ProcessResult {
  int exit_code = 0;  // 128 + signal number when a signal ended it
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up on PATH) with `input` on its stdin until it exits. NotFound when
// argv[0] cannot be found or run; DeadlineExceeded when it runs longer than `timeout` (it is
// killed and reaped); Internal when pipes or the spawn fail otherwise.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         absl::string_view input, absl::Duration timeout);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_SUBPROCESS_H_
