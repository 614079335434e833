// Strict IPv4 parsing and formatting; see ipv4.h.
#include "common/topology/ipv4.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace labrack {
namespace {

// A decimal number 0..max without sign or leading zeros.
std::optional<int> ParseSmallDecimal(absl::string_view text, int max) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  if (text.size() > 1 && text.front() == '0') return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

}  // namespace

std::optional<uint32_t> ParseIpv4(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() != 4) return std::nullopt;
  uint32_t address = 0;
  for (absl::string_view part : parts) {
    std::optional<int> octet = ParseSmallDecimal(part, 255);
    if (!octet) return std::nullopt;
    address = (address << 8) | static_cast<uint32_t>(*octet);
  }
  return address;
}

std::optional<Ipv4Cidr> ParseIpv4Cidr(absl::string_view text) {
  size_t slash = text.find('/');
  if (slash == absl::string_view::npos) return std::nullopt;
  std::optional<uint32_t> address = ParseIpv4(text.substr(0, slash));
  std::optional<int> prefix = ParseSmallDecimal(text.substr(slash + 1), 32);
  if (!address || !prefix) return std::nullopt;
  return Ipv4Cidr{*address, *prefix};
}

std::string FormatIpv4(uint32_t address) {
  return absl::StrCat(address >> 24, ".", (address >> 16) & 0xff, ".", (address >> 8) & 0xff, ".",
                      address & 0xff);
}

std::string FormatIpv4Cidr(const Ipv4Cidr& cidr) {
  return absl::StrCat(FormatIpv4(cidr.address), "/", cidr.prefix);
}

}  // namespace labrack
