#include "tests/testing/guest_probes.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace labrack::testing {
namespace {

// Runs `command` and returns its output lines; an error unless it exited 0.
absl::StatusOr<std::vector<std::string>> RunLines(GuestShell& shell, const std::string& command,
                                                  absl::Duration timeout) {
  absl::StatusOr<std::string> out = shell.Run(command, timeout);
  if (!out.ok()) return out.status();
  std::vector<std::string> lines = absl::StrSplit(*out, '\n', absl::SkipEmpty());
  if (lines.empty() || lines.back() != "exit=0") {
    return absl::InternalError(absl::StrCat("in the guest, `", command, "` answered:\n", *out));
  }
  lines.pop_back();
  return lines;
}

// The Ethernet NICs of the guest, as shell words: $n is the name, $d the sysfs folder.
constexpr char kForEachNic[] =
    "for d in /sys/class/net/*; do [ -e $d/device ] || continue; n=${d##*/}; ";

}  // namespace

absl::Status AnswerBroadcastPings(GuestShell& shell) {
  return RunLines(shell, "echo 0 >/proc/sys/net/ipv4/icmp_echo_ignore_broadcasts",
                  absl::Seconds(30))
      .status();
}

absl::StatusOr<std::vector<NicNeighbours>> ProbeNeighbours(GuestShell& shell) {
  // Every host on the link answers, and resolves our address to do so (ARP or neighbour
  // discovery), which puts it in our neighbour table: the table then holds exactly the
  // hosts on the link. Three rounds, in case an IPv6 link-local address was still
  // tentative at the first.
  std::string command = absl::StrCat(
      kForEachNic,
      "if ip -4 addr show dev $n | grep -q inet; then "
      "ping -c 3 -i 0.5 -w 4 -I $n 255.255.255.255; "
      "else ping -6 -c 3 -i 0.5 -w 4 -I $n ff02::1; fi >/dev/null 2>&1 & done; wait; ",
      kForEachNic,
      "echo nic $(cat $d/address) $(ip neigh show dev $n | grep -o '..:..:..:..:..:..'); done");
  absl::StatusOr<std::vector<std::string>> lines = RunLines(shell, command, absl::Seconds(30));
  if (!lines.ok()) return lines.status();
  std::vector<NicNeighbours> nics;
  for (const std::string& line : *lines) {
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.size() < 2 || words[0] != "nic") continue;  // the echo of what we typed
    NicNeighbours nic;
    nic.mac = absl::AsciiStrToLower(words[1]);
    for (size_t i = 2; i < words.size(); ++i) nic.neighbours.insert(absl::AsciiStrToLower(words[i]));
    nics.push_back(std::move(nic));
  }
  return nics;
}

absl::StatusOr<std::vector<GuestDisk>> ProbeExtraDisks(GuestShell& shell) {
  const std::string command =
      "for b in /sys/block/vd*; do n=${b##*/}; [ $n = vda ] && continue; "
      "echo disk $n $(cat $b/size) $(dd if=/dev/$n bs=65536 count=16 2>/dev/null | "
      "tr -d '\\000' | wc -c); done";
  absl::StatusOr<std::vector<std::string>> lines = RunLines(shell, command, absl::Seconds(30));
  if (!lines.ok()) return lines.status();
  std::vector<GuestDisk> disks;
  for (const std::string& line : *lines) {
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.size() != 4 || words[0] != "disk") continue;
    GuestDisk disk;
    disk.name = words[1];
    uint64_t sectors = 0;
    if (!absl::SimpleAtoi(words[2], &sectors) || !absl::SimpleAtoi(words[3], &disk.nonzero_bytes)) {
      return absl::InternalError(absl::StrCat("unexpected disk line from the guest: ", line));
    }
    disk.size_mib = sectors * 512 / (1024 * 1024);
    disks.push_back(std::move(disk));
  }
  return disks;
}

absl::StatusOr<PingSummary> ParsePingSummary(const std::string& output) {
  PingSummary summary;
  size_t at = output.find(" packets transmitted, ");
  size_t line = output.rfind('\n', at);
  line = line == std::string::npos ? 0 : line + 1;
  if (at == std::string::npos ||
      std::sscanf(output.c_str() + line, "%d packets transmitted, %d packets received",
                  &summary.transmitted, &summary.received) != 2) {
    return absl::InternalError(absl::StrCat("no ping statistics in:\n", output));
  }
  if (summary.received == 0) return summary;
  at = output.find("round-trip min/avg/max = ");
  if (at == std::string::npos ||
      std::sscanf(output.c_str() + at, "round-trip min/avg/max = %lf/%lf/%lf", &summary.min_ms,
                  &summary.avg_ms, &summary.max_ms) != 3) {
    return absl::InternalError(absl::StrCat("no round-trip times in:\n", output));
  }
  return summary;
}

absl::StatusOr<PingSummary> PingFromGuest(GuestShell& shell, const std::string& address,
                                          int count) {
  // The first packet also waits for ARP.
  absl::StatusOr<std::string> warm = shell.Run(absl::StrCat("ping -c 1 -W 3 ", address, " >/dev/null"));
  if (!warm.ok()) return warm.status();
  absl::StatusOr<std::string> out =
      shell.Run(absl::StrCat("ping -c ", count, " -i 0.3 -W 3 ", address, " | tail -2"),
                absl::Seconds(10 + count));
  if (!out.ok()) return out.status();
  return ParsePingSummary(*out);
}

}  // namespace labrack::testing
