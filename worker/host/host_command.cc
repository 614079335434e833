#include "worker/host/host_command.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace labrack::worker {
namespace {

constexpr size_t kMaxStderr = 2048;
constexpr size_t kMaxStdout = 4 << 20;

// Appends what the pipe holds now (it is non-blocking) to `out`, up to `max`.
void Drain(int fd, std::string& out, size_t max = kMaxStderr) {
  if (fd < 0) return;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    if (out.size() < max) out.append(buf, std::min<size_t>(n, max - out.size()));
  }
}

// A file (in memory, never on disk) holding `input`, read from its start; -1 on failure.
// A file rather than a pipe: the child may read it at its pace, and a child that stops
// reading early cannot make a write raise SIGPIPE.
int InputFile(absl::string_view input) {
  int fd = memfd_create("labrack-host-command-input", MFD_CLOEXEC);
  if (fd < 0) return -1;
  while (!input.empty()) {
    ssize_t n = write(fd, input.data(), input.size());
    if (n <= 0) {
      close(fd);
      return -1;
    }
    input.remove_prefix(n);
  }
  if (lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) close(fd);
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
  return RunHostCommandWithIo(args, "", timeout).status();
}

absl::StatusOr<std::string> RunHostCommandWithIo(const std::vector<std::string>& args,
                                                 absl::string_view input, absl::Duration timeout) {
  if (args.empty()) return absl::InvalidArgumentError("RunHostCommand: empty command");
  const std::string line = absl::StrJoin(args, " ");
  // Only our ends are non-blocking: a child's write to a full pipe must wait, not fail.
  int err[2], out[2];
  if (pipe2(err, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe for `", line, "`"));
  if (pipe2(out, O_CLOEXEC) != 0) {
    CloseAll({err[0], err[1]});
    return absl::InternalError(absl::StrCat("pipe for `", line, "`"));
  }
  fcntl(err[0], F_SETFL, O_NONBLOCK);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  const int in = input.empty() ? -1 : InputFile(input);
  if (!input.empty() && in < 0) {
    CloseAll({err[0], err[1], out[0], out[1]});
    return absl::InternalError(absl::StrCat("input file for `", line, "`: ", strerror(errno)));
  }
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (in >= 0) {
    posix_spawn_file_actions_adddup2(&actions, in, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid = 0;
  DefaultSignalsForChild signals;
  int rc = posix_spawnp(&pid, argv[0], &actions, signals.get(), argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  CloseAll({err[1], out[1], in});
  if (rc != 0) {
    CloseAll({err[0], out[0]});
    return absl::NotFoundError(absl::StrCat("cannot run `", line, "`: ", strerror(rc)));
  }
  std::string stderr_text, stdout_text;
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    Drain(err[0], stderr_text);
    Drain(out[0], stdout_text, kMaxStdout);
    if (absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      CloseAll({err[0], out[0]});
      return absl::DeadlineExceededError(
          absl::StrCat("`", line, "` did not finish within ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  Drain(err[0], stderr_text);
  Drain(out[0], stdout_text, kMaxStdout);
  CloseAll({err[0], out[0]});
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return stdout_text;
  std::string how = WIFEXITED(status) ? absl::StrCat("exited ", WEXITSTATUS(status))
                                      : absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::InternalError(absl::StrCat("`", line, "` ", how, ": ", stderr_text));
}

}  // namespace labrack::worker
