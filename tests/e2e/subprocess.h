// Child processes for end-to-end tests: long-running daemons (started, signalled, waited
// for, and killed by their pid when the handle goes away) and one-shot commands with their
// exit code and output. Not thread-safe per object.
#ifndef LABRACK_TESTS_E2E_SUBPROCESS_H_
#define LABRACK_TESTS_E2E_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace labrack::e2e {

class Daemon {
 public:
  // Starts argv[0] (a path, or a name looked up in PATH) with stdout and stderr appended
  // to `log_path`.
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const std::vector<std::string>& argv,
                                                       const std::string& log_path);
  // Kills (SIGKILL) and reaps the process if it still runs.
  ~Daemon();

  pid_t pid() const { return pid_; }
  bool running();
  // How the process ended ("exit 0", "signal 9"), once running() or Stop() saw it end.
  std::string how_it_ended() const;
  // Sends `signal` and waits up to `timeout` for the exit; SIGKILL after that.
  void Stop(int signal, absl::Duration timeout = absl::Seconds(15));

 private:
  explicit Daemon(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
  int status_ = 0;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv to completion with `input` on its stdin. Killed after `timeout` (exit -1).
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input,
                         absl::Duration timeout);

}  // namespace labrack::e2e

#endif  // LABRACK_TESTS_E2E_SUBPROCESS_H_
