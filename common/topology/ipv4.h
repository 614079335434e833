// Strict IPv4 address and CIDR parsing for topology addresses ("10.10.1.5/24"): dotted quads
// without leading zeros, so that no text means two different addresses. Pure functions;
// thread-safe.
#ifndef LABRACK_COMMON_TOPOLOGY_IPV4_H_
#define LABRACK_COMMON_TOPOLOGY_IPV4_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace labrack {

struct Ipv4Cidr {
  uint32_t address = 0;  // host byte order
  int prefix = 0;        // 0..32

  uint32_t Mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  uint32_t NetworkAddress() const { return address & Mask(); }
  uint32_t BroadcastAddress() const { return NetworkAddress() | ~Mask(); }
  bool Contains(uint32_t a) const { return (a & Mask()) == NetworkAddress(); }
};

// "a.b.c.d" with each part 0..255 written without leading zeros; nullopt otherwise.
std::optional<uint32_t> ParseIpv4(absl::string_view text);
// "a.b.c.d/p" with p 0..32 written without leading zeros; nullopt otherwise.
std::optional<Ipv4Cidr> ParseIpv4Cidr(absl::string_view text);

std::string FormatIpv4(uint32_t address);
// "a.b.c.d/p"
std::string FormatIpv4Cidr(const Ipv4Cidr& cidr);

}  // namespace labrack

#endif  // LABRACK_COMMON_TOPOLOGY_IPV4_H_
