// Runs shell commands in a guest through its serial console, reading the answers from the
// serial log file, as a candidate would type them. One GuestShell per guest; not
// thread-safe.
#ifndef LABRACK_TESTS_TESTING_GUEST_SHELL_H_
#define LABRACK_TESTS_TESTING_GUEST_SHELL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "worker/hypervisor/hypervisor.h"

namespace labrack::testing {

class GuestShell {
 public:
  // Attaches to `domain`'s console; `serial_log` is the file its output goes to.
  static absl::StatusOr<std::unique_ptr<GuestShell>> Open(worker::Hypervisor* hv,
                                                          const std::string& domain,
                                                          const std::string& serial_log);

  // Runs `command` and returns what it printed and its exit code as "output\nexit=N".
  // DeadlineExceeded when it has not finished within `timeout`.
  absl::StatusOr<std::string> Run(const std::string& command,
                                  absl::Duration timeout = absl::Seconds(30));

 private:
  GuestShell(std::unique_ptr<worker::ConsoleStream> console, std::string serial_log)
      : console_(std::move(console)), serial_log_(std::move(serial_log)) {}

  std::unique_ptr<worker::ConsoleStream> console_;
  std::string serial_log_;
  int sequence_ = 0;
};

}  // namespace labrack::testing

#endif  // LABRACK_TESTS_TESTING_GUEST_SHELL_H_
