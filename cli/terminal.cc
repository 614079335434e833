// termios raw mode with a saved copy that a signal handler can restore: tcsetattr is
// async-signal-safe, so the handler restores the terminal, then re-raises the signal with
// its default action so the process still ends as the sender wanted.
#include "cli/terminal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace labrack::cli {
namespace {

constexpr int kSignals[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};

// Read by the signal handler: plain globals, written only while no handler is installed.
struct termios g_saved_mode;
volatile sig_atomic_t g_raw_fd = -1;
struct sigaction g_old_actions[sizeof(kSignals) / sizeof(kSignals[0])];

void RestoreAndReraise(int sig) {
  if (g_raw_fd >= 0) tcsetattr(g_raw_fd, TCSANOW, &g_saved_mode);
  signal(sig, SIG_DFL);
  raise(sig);
}

class FdInput : public InputSource {
 public:
  explicit FdInput(int fd) : fd_(fd) {}
  absl::StatusOr<std::string> Read(size_t max, absl::Duration timeout, bool* eof) override {
    *eof = false;
    pollfd p{fd_, POLLIN, 0};
    int ms = static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(timeout)));
    int ready = poll(&p, 1, ms);
    if (ready == 0 || (ready < 0 && errno == EINTR)) return std::string();
    if (ready < 0) return absl::InternalError(absl::StrCat("reading stdin: ", strerror(errno)));
    std::string data(max, '\0');
    ssize_t n = read(fd_, data.data(), max);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return std::string();
    if (n < 0) return absl::InternalError(absl::StrCat("reading stdin: ", strerror(errno)));
    *eof = n == 0;
    data.resize(n);
    return data;
  }

 private:
  int fd_;
};

class StreamInput : public InputSource {
 public:
  explicit StreamInput(std::istream& in) : in_(in) {}
  absl::StatusOr<std::string> Read(size_t max, absl::Duration, bool* eof) override {
    std::string data(max, '\0');
    in_.read(data.data(), max);
    data.resize(in_.gcount());
    *eof = data.empty() && !in_.good();
    if (in_.bad()) return absl::InternalError("reading stdin failed");
    return data;
  }

 private:
  std::istream& in_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RawTerminal>> RawTerminal::Enter(int fd) {
  if (tcgetattr(fd, &g_saved_mode) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("stdin is not a terminal: ", strerror(errno)));
  }
  struct termios raw = g_saved_mode;
  cfmakeraw(&raw);
  g_raw_fd = fd;
  struct sigaction action = {};
  action.sa_handler = &RestoreAndReraise;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < std::size(kSignals); ++i)
    sigaction(kSignals[i], &action, &g_old_actions[i]);
  if (tcsetattr(fd, TCSAFLUSH, &raw) != 0) {
    int error = errno;
    RawTerminal undo(fd);  // puts the handlers back
    return absl::FailedPreconditionError(absl::StrCat("cannot set raw mode: ", strerror(error)));
  }
  return std::unique_ptr<RawTerminal>(new RawTerminal(fd));
}

RawTerminal::~RawTerminal() {
  tcsetattr(fd_, TCSADRAIN, &g_saved_mode);
  for (size_t i = 0; i < std::size(kSignals); ++i)
    sigaction(kSignals[i], &g_old_actions[i], nullptr);
  g_raw_fd = -1;
}

std::unique_ptr<InputSource> NewFdInput(int fd) { return std::make_unique<FdInput>(fd); }

std::unique_ptr<InputSource> NewStreamInput(std::istream& in) {
  return std::make_unique<StreamInput>(in);
}

}  // namespace labrack::cli
