// A child process fed and drained through pipes with poll(); see subprocess.h.
#include "cli/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace labrack::cli {
namespace {

// Both ends of a pipe, closed on destruction.
struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() { Close(0), Close(1); }
  void Close(int end) {
    if (fd[end] >= 0) close(fd[end]);
    fd[end] = -1;
  }
};

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

absl::Status Spawn(const std::vector<std::string>& argv, Pipe& in, Pipe& out, Pipe& err,
                   pid_t* pid) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  // The child starts with no signals blocked, whatever this thread blocks.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int rc = posix_spawnp(pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc == ENOENT || rc == EACCES) {
    return absl::NotFoundError(absl::StrCat(argv[0], ": ", strerror(rc)));
  }
  if (rc != 0) return absl::InternalError(absl::StrCat("spawn ", argv[0], ": ", strerror(rc)));
  return absl::OkStatus();
}

// Writes `input` and reads stdout/stderr until both close or the deadline passes.
absl::Status Exchange(absl::string_view input, Pipe& in, Pipe& out, Pipe& err, absl::Time deadline,
                      ProcessResult* result) {
  size_t written = 0;
  if (input.empty()) in.Close(1);
  char buffer[65536];
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    pollfd fds[3] = {{in.fd[1], POLLOUT, 0}, {out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
    int64_t wait_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (wait_ms <= 0) return absl::DeadlineExceededError("timed out");
    int ready = poll(fds, 3, static_cast<int>(std::min<int64_t>(wait_ms, 1000)));
    if (ready < 0 && errno != EINTR) return Errno("poll");
    if (ready <= 0) continue;
    if (fds[0].revents != 0) {
      ssize_t n = write(in.fd[1], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 || written == input.size()) in.Close(1);  // EPIPE: the child stopped reading
    }
    for (int i = 1; i <= 2; ++i) {
      if (fds[i].revents == 0) continue;
      Pipe& pipe = i == 1 ? out : err;
      ssize_t n = read(pipe.fd[0], buffer, sizeof(buffer));
      if (n > 0) (i == 1 ? result->out : result->err).append(buffer, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EINTR)) pipe.Close(0);
    }
  }
  return absl::OkStatus();
}

// Blocks SIGPIPE in this thread while alive, so that writing to a child that exited fails
// with EPIPE instead of ending labrackctl; discards a SIGPIPE left pending.
class ScopedBlockSigpipe {
 public:
  ScopedBlockSigpipe() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~ScopedBlockSigpipe() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    timespec zero = {0, 0};
    while (sigtimedwait(&set, nullptr, &zero) == SIGPIPE) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
};

}  // namespace

absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         absl::string_view input, absl::Duration timeout) {
  if (argv.empty()) return absl::InvalidArgumentError("RunProcess: empty argv");
  absl::Time deadline = absl::Now() + timeout;
  Pipe in, out, err;
  if (pipe2(in.fd, O_CLOEXEC) != 0 || pipe2(out.fd, O_CLOEXEC) != 0 ||
      pipe2(err.fd, O_CLOEXEC) != 0) {
    return Errno("pipe");
  }
  ScopedBlockSigpipe no_sigpipe;
  pid_t pid = -1;
  absl::Status spawned = Spawn(argv, in, out, err, &pid);
  if (!spawned.ok()) return spawned;
  in.Close(0), out.Close(1), err.Close(1);
  bool reaped = false;
  absl::Cleanup reap = [&] {
    if (reaped) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  };
  ProcessResult result;
  absl::Status exchanged = Exchange(input, in, out, err, deadline, &result);
  if (!exchanged.ok()) {
    return absl::Status(exchanged.code(), absl::StrCat(argv[0], ": ", exchanged.message()));
  }
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return Errno("waitpid");
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(argv[0], ": timed out"));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  reaped = true;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace labrack::cli
