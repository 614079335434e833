#include "worker/host/host_command.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace labrack::worker {
namespace {

constexpr size_t kMaxStderr = 2048;

// Appends what the pipe holds now (it is non-blocking) to `out`, up to kMaxStderr.
void Drain(int fd, std::string& out) {
  char buf[512];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    if (out.size() < kMaxStderr) out.append(buf, std::min<size_t>(n, kMaxStderr - out.size()));
  }
}

}  // namespace

DefaultSignalsForChild::DefaultSignalsForChild() {
  posix_spawnattr_init(&attr_);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr_, &defaults);
  posix_spawnattr_setsigmask(&attr_, &none);
  posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}

DefaultSignalsForChild::~DefaultSignalsForChild() { posix_spawnattr_destroy(&attr_); }

absl::Status RunHostCommand(const std::vector<std::string>& args, absl::Duration timeout) {
  if (args.empty()) return absl::InvalidArgumentError("RunHostCommand: empty command");
  const std::string line = absl::StrJoin(args, " ");
  int err[2];
  if (pipe2(err, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("pipe for `", line, "`"));
  }
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid = 0;
  DefaultSignalsForChild signals;
  int rc = posix_spawnp(&pid, argv[0], &actions, signals.get(), argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(err[1]);
  if (rc != 0) {
    close(err[0]);
    return absl::NotFoundError(absl::StrCat("cannot run `", line, "`: ", strerror(rc)));
  }
  std::string stderr_text;
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    Drain(err[0], stderr_text);
    if (absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      close(err[0]);
      return absl::DeadlineExceededError(
          absl::StrCat("`", line, "` did not finish within ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  Drain(err[0], stderr_text);
  close(err[0]);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  std::string how = WIFEXITED(status) ? absl::StrCat("exited ", WEXITSTATUS(status))
                                      : absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::InternalError(absl::StrCat("`", line, "` ", how, ": ", stderr_text));
}

}  // namespace labrack::worker
