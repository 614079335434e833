// ProbeHostNetem: one short-lived `unshare --net tc ...` child with a deadline.
#include "worker/netem_probe.h"

#include "absl/strings/str_cat.h"
#include "worker/host/host_command.h"

namespace labrack::worker {

NetemProbeResult ProbeHostNetem(const std::string& unshare_binary, absl::Duration timeout) {
  absl::Status s = RunHostCommand(
      {unshare_binary, "--net", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"},
      timeout);
  if (s.ok()) return {true, "the host kernel has netem"};
  switch (s.code()) {
    case absl::StatusCode::kNotFound:
      return {false,
              absl::StrCat("cannot run ", unshare_binary, "; shaped links use the link emulator")};
    case absl::StatusCode::kDeadlineExceeded:
      return {false, "the netem probe did not finish in time; shaped links use the link emulator"};
    default:
      return {false,
              "no netem qdisc on this host kernel (or no tc, or no right to make a network "
              "namespace): shaped links with latency or loss use the link-emulator guest"};
  }
}

}  // namespace labrack::worker
