// What the table keeps of libvirt's clean-traffic (no-mac-spoofing, no-ip-spoofing,
// no-arp-spoofing, no-other-l2-traffic, qemu-announce-self), for each filtered NIC:
//   - every frame from the guest carries the NIC's MAC as its Ethernet source;
//   - from the guest only IPv4, ARP and RARP pass (no IPv6, no VLAN tags, nothing else);
//   - IPv4 from the guest has the NIC's address as its source; 0.0.0.0 only for a DHCP
//     request (UDP 68 -> 67: clean-traffic lets any UDP from 0.0.0.0 pass);
//   - ARP from the guest is Ethernet/IPv4 ARP with the NIC's MAC and address as sender;
//   - RARP only as qemu's announce-self sends it after a restore or migration: broadcast
//     (its payload is not checked, unlike clean-traffic's; no guest stack reads RARP);
//   - towards the guest too, only IPv4, ARP and RARP pass.
// Checked on the bridge's prerouting hook, so frames to other guests and to the bridge
// itself are covered, and again on its input hook, which link-local frames (01:80:c2:...)
// for the host reach without prerouting. It does not, as clean-traffic does not, look at
// destinations, rates, ARP target fields or anything above IPv4's header. Unlike
// nwfilter's rules, nothing of it lives in libvirtd: a killed libvirtd leaves nothing half
// made, and the table names taps by name, so it is in place before they exist.
#include "worker/hypervisor/nft_port_filter.h"

#include <arpa/inet.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/names.h"
#include "common/status_macros.h"

namespace labrack::worker {
namespace {

constexpr absl::string_view kFamily = "bridge";
constexpr absl::string_view kStamp = "labrack ";
// Before any other bridge chain (ebtables' nat is at -300 too): no chain sees a spoofed
// frame before this one drops it.
constexpr int kPriority = -300;

bool IsInterfaceName(absl::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

bool IsLowerHex(char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'); }

bool IsUnicastMac(absl::string_view mac) {
  if (mac.size() != 17) return false;
  for (size_t i = 0; i < mac.size(); ++i) {
    if (i % 3 == 2 ? mac[i] != ':' : !IsLowerHex(mac[i])) return false;
  }
  const int first = std::stoi(std::string(mac.substr(0, 2)), nullptr, 16);
  return (first & 1) == 0;
}

// Dotted IPv4 as inet_ntop writes it: no leading zeros, nothing around it.
bool IsDottedIpv4(const std::string& ip) {
  in_addr addr;
  char back[INET_ADDRSTRLEN];
  return inet_pton(AF_INET, ip.c_str(), &addr) == 1 &&
         inet_ntop(AF_INET, &addr, back, sizeof back) != nullptr && ip == back;
}

absl::Status ValidatePort(const PortGuard& port, int i, std::set<std::string>& taps) {
  const std::string field = absl::StrCat("ports[", i, "]");
  if (!IsInterfaceName(port.tap)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".tap: '", port.tap, "' is not an interface name (1 to 15 of [A-Za-z0-9_-])"));
  }
  if (!taps.insert(port.tap).second) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".tap: ", port.tap, " is named twice"));
  }
  if (!IsUnicastMac(port.mac)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".mac: '", port.mac, "' is not a unicast aa:bb:cc:dd:ee:ff (lowercase)"));
  }
  if (!IsDottedIpv4(port.ip)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".ip: '", port.ip, "' is not a dotted IPv4 address"));
  }
  return absl::OkStatus();
}

std::string PortChain(const PortGuard& port) { return absl::StrCat("port_", port.tap); }

// A base chain on `hook` that sends each guest's frames to its port chain.
void AppendDispatch(std::string& out, absl::string_view name, absl::string_view hook,
                    const std::vector<PortGuard>& ports) {
  absl::StrAppend(&out, "\tchain ", name, " {\n\t\ttype filter hook ", hook, " priority ",
                  kPriority, "; policy accept;\n");
  if (!ports.empty()) {
    std::vector<std::string> entries;
    for (const PortGuard& p : ports) entries.push_back(absl::StrCat("\"", p.tap, "\" : jump ", PortChain(p)));
    absl::StrAppend(&out, "\t\tiifname vmap { ", absl::StrJoin(entries, ", "), " }\n");
  }
  absl::StrAppend(&out, "\t}\n");
}

void AppendToGuests(std::string& out, const std::vector<PortGuard>& ports) {
  absl::StrAppend(&out, "\tchain to_guests {\n\t\ttype filter hook postrouting priority ",
                  kPriority, "; policy accept;\n");
  if (!ports.empty()) {
    std::vector<std::string> taps;
    for (const PortGuard& p : ports) taps.push_back(absl::StrCat("\"", p.tap, "\""));
    absl::StrAppend(&out, "\t\toifname { ", absl::StrJoin(taps, ", "),
                    " } ether type != { ip, arp, 0x8035 } drop\n");
  }
  absl::StrAppend(&out, "\t}\n");
}

void AppendPort(std::string& out, const PortGuard& p) {
  absl::StrAppend(&out, "\tchain ", PortChain(p), " {\n",                                        //
                  "\t\tether saddr != ", p.mac, " drop\n",                                         //
                  "\t\tether type ip ip saddr ", p.ip, " accept\n",                                //
                  "\t\tether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept\n",         //
                  "\t\tether type arp arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether ",
                  p.mac, " arp saddr ip ", p.ip, " accept\n",                                      //
                  "\t\tether type 0x8035 ether daddr ff:ff:ff:ff:ff:ff accept\n",                  //
                  "\t\tdrop\n\t}\n");
}

}  // namespace

std::string PortFilterTableName(absl::string_view sandbox_id) {
  return absl::StrCat(kObjectPrefix, Sandbox8(sandbox_id));
}

bool IsPortFilterTableName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, kObjectPrefix) || name.size() != 8) return false;
  for (char c : name) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

absl::StatusOr<std::string> BuildPortFilterScript(const PortFilterSpec& spec) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", spec.sandbox_id));
  RETURN_IF_ERROR(ValidateObjectName("host_id", spec.host_id));
  std::set<std::string> taps;
  for (size_t i = 0; i < spec.ports.size(); ++i) {
    RETURN_IF_ERROR(ValidatePort(spec.ports[i], static_cast<int>(i), taps));
  }
  const std::string table = absl::StrCat("table ", kFamily, " ", PortFilterTableName(spec.sandbox_id));
  // `add` first, so that `delete` finds a table to delete on the first apply too.
  std::string out = absl::StrCat("add ", table, "\ndelete ", table, "\n", table, " {\n",
                                 "\tcomment \"", kStamp, "host=", spec.host_id,
                                 " sandbox=", spec.sandbox_id, "\"\n");
  AppendDispatch(out, "from_guests", "prerouting", spec.ports);
  AppendDispatch(out, "from_guests_local", "input", spec.ports);
  AppendToGuests(out, spec.ports);
  for (const PortGuard& p : spec.ports) AppendPort(out, p);
  absl::StrAppend(&out, "}\n");
  return out;
}

std::string BuildPortFilterDeleteScript(absl::string_view sandbox_id) {
  const std::string table = absl::StrCat("table ", kFamily, " ", PortFilterTableName(sandbox_id));
  return absl::StrCat("add ", table, "\ndelete ", table, "\n");
}

std::vector<PortFilterInfo> ParsePortFilterTables(absl::string_view listing) {
  std::vector<PortFilterInfo> out;
  bool in_table = false;  // inside a labrack table, before its first chain
  const std::string table_start = absl::StrCat("table ", kFamily, " ");
  for (absl::string_view line : absl::StrSplit(listing, '\n')) {
    if (absl::ConsumePrefix(&line, table_start)) {
      absl::string_view name = line.substr(0, line.find(' '));
      in_table = IsPortFilterTableName(name);
      if (in_table) {
        const std::string s8(name.substr(kObjectPrefix.size()));
        out.push_back({s8, s8, ""});
      }
      continue;
    }
    if (!in_table) continue;
    absl::string_view stripped = absl::StripLeadingAsciiWhitespace(line);
    if (absl::StartsWith(stripped, "chain ")) {
      in_table = false;  // the table's comment comes before its chains
      continue;
    }
    if (!absl::ConsumePrefix(&stripped, "comment \"") || !absl::ConsumePrefix(&stripped, kStamp)) continue;
    stripped = stripped.substr(0, stripped.find('"'));
    for (absl::string_view word : absl::StrSplit(stripped, ' ', absl::SkipEmpty())) {
      if (absl::ConsumePrefix(&word, "host=")) out.back().host_id = std::string(word);
      if (absl::ConsumePrefix(&word, "sandbox=") && absl::StartsWith(word, out.back().sandbox8)) {
        out.back().sandbox_id = std::string(word);
      }
    }
  }
  return out;
}

}  // namespace labrack::worker
