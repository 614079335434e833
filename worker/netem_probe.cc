// ProbeHostNetem: one short-lived `unshare --net tc ...` child with a deadline.
#include "worker/netem_probe.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace labrack::worker {

NetemProbeResult ProbeHostNetem(const std::string& unshare_binary, absl::Duration timeout) {
  std::vector<std::string> args = {unshare_binary, "--net", "tc",    "qdisc", "add", "dev",
                                   "lo",           "root",  "netem", "delay", "1ms"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, unshare_binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return {false,
            absl::StrCat("cannot run ", unshare_binary, "; shaped links use the link emulator")};
  }
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    if (absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return {false, "the netem probe did not finish in time; shaped links use the link emulator"};
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return {true, "the host kernel has netem"};
  }
  return {false,
          "no netem qdisc on this host kernel (or no tc, or no right to make a network "
          "namespace): shaped links with latency or loss use the link-emulator guest"};
}

}  // namespace labrack::worker
