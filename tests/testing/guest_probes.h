// What a guest sees, asked from inside it through its serial console with busybox tools:
// the link neighbours of each NIC, the extra disks, round trips to an address. The answers
// are what a candidate at that console would see, independent of how labrack built the
// guest.
#ifndef LABRACK_TESTS_TESTING_GUEST_PROBES_H_
#define LABRACK_TESTS_TESTING_GUEST_PROBES_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/testing/guest_shell.h"

namespace labrack::testing {

struct NicNeighbours {
  std::string mac;  // the guest NIC's own address, lowercase
  // MAC addresses of the hosts that answered echo requests to everyone on this NIC's link.
  std::set<std::string> neighbours;
};

// Makes the guest answer IPv4 echo requests sent to broadcast addresses (Linux ignores
// them by default). Every guest of a lab needs it before ProbeNeighbours runs in any.
absl::Status AnswerBroadcastPings(GuestShell& shell);

// Pings everyone on the link from every Ethernet NIC of the guest at once, then reads each
// NIC's neighbour table. A NIC with an IPv4 address pings 255.255.255.255 (labrack's
// anti-spoofing filter lets only IPv4 and ARP through such NICs); one without pings
// ff02::1, all IPv6 nodes, whose link-local addresses need nothing configured.
absl::StatusOr<std::vector<NicNeighbours>> ProbeNeighbours(GuestShell& shell);

struct GuestDisk {
  std::string name;      // vdb, vdc, ...
  uint64_t size_mib = 0;
  // Bytes other than zero in the disk's first MiB: 0 for a blank disk.
  uint64_t nonzero_bytes = 0;
};

// The guest's virtio disks other than vda (the root disk).
absl::StatusOr<std::vector<GuestDisk>> ProbeExtraDisks(GuestShell& shell);

struct PingSummary {
  int transmitted = 0;
  int received = 0;
  double min_ms = 0, avg_ms = 0, max_ms = 0;
};

// Pings `address` once to resolve it (ARP), then `count` times 0.3 s apart.
absl::StatusOr<PingSummary> PingFromGuest(GuestShell& shell, const std::string& address,
                                          int count);
// Parses the last two lines of busybox ping's output.
absl::StatusOr<PingSummary> ParsePingSummary(const std::string& output);

}  // namespace labrack::testing

#endif  // LABRACK_TESTS_TESTING_GUEST_PROBES_H_
