#include "worker/host/host_netem.h"

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "worker/host/host_command.h"

namespace labrack::worker {

std::vector<std::string> HostNetemCommand(const std::string& dev, const std::string& netem_args) {
  std::vector<std::string> argv = {"tc", "qdisc", "replace", "dev", dev, "root", "netem"};
  for (absl::string_view arg : absl::StrSplit(netem_args, ' ', absl::SkipEmpty())) {
    argv.emplace_back(arg);
  }
  return argv;
}

absl::Status ShapeHostTap(const std::string& dev, const std::string& netem_args) {
  return RunHostCommand(HostNetemCommand(dev, netem_args), absl::Seconds(10));
}

}  // namespace labrack::worker
