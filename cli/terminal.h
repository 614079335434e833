// The local end of `sandbox console`: raw mode for a terminal on stdin, restored on every
// way out (destructor, and SIGTERM/SIGHUP/SIGINT/SIGQUIT sent by someone else), and the
// sources console keystrokes are read from. RawTerminal: one per process at a time;
// InputSource: one reader thread.
#ifndef LABRACK_CLI_TERMINAL_H_
#define LABRACK_CLI_TERMINAL_H_

#include <termios.h>

#include <istream>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace labrack::cli {

class RawTerminal {
 public:
  // Puts the terminal `fd` in raw mode: bytes as typed, no echo, no signals from Ctrl-C
  // (the guest gets them). FailedPrecondition when `fd` is not a terminal.
  static absl::StatusOr<std::unique_ptr<RawTerminal>> Enter(int fd);
  // Restores the terminal's former mode and the former signal handlers.
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  explicit RawTerminal(int fd) : fd_(fd) {}
  int fd_;
};

// Where console keystrokes come from.
class InputSource {
 public:
  virtual ~InputSource() = default;
  // Up to `max` bytes as they arrive. Empty with *eof false when nothing came within
  // `timeout`; empty with *eof true at the end of input. Internal on a read error.
  virtual absl::StatusOr<std::string> Read(size_t max, absl::Duration timeout, bool* eof) = 0;
};

// Reads a descriptor with poll(), so that the timeout holds.
std::unique_ptr<InputSource> NewFdInput(int fd);
// Reads an istream; blocks until `max` bytes or the end (meant for string streams).
std::unique_ptr<InputSource> NewStreamInput(std::istream& in);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_TERMINAL_H_
