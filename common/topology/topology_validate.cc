// Rules for a Topology proto; see topology_validate.h. Every message starts with the field
// path so that the YAML parser can add the line it came from.
#include "common/topology/topology_validate.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "common/topology/enum_names.h"
#include "common/topology/ipv4.h"
#include "common/topology/link_shape.h"
#include "common/topology/standard_items.h"

namespace labrack {
namespace {

struct NetworkInfo {
  std::optional<Ipv4Cidr> cidr;
};

struct Networks {
  absl::flat_hash_map<std::string, NetworkInfo> by_name;
  std::string names;  // "mgmt, lan", for messages
};

// (network, address) -> path of the NIC that holds it.
using AddressBook = absl::flat_hash_map<std::pair<std::string, uint32_t>, std::string>;

absl::Status Invalid(absl::string_view path, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", rule));
}

absl::Status InvalidValue(absl::string_view path, absl::string_view value, absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, " \"", absl::CHexEscape(value.substr(0, 80)), "\": ", rule));
}

absl::Status CheckCount(absl::string_view path, int count, int max, absl::string_view what) {
  if (count <= max) return absl::OkStatus();
  return Invalid(path, absl::StrCat("at most ", max, " ", what, ", got ", count));
}

absl::StatusOr<std::optional<Ipv4Cidr>> ValidateNetworkCidr(const std::string& path,
                                                            absl::string_view text) {
  if (text.empty()) return std::nullopt;
  std::optional<Ipv4Cidr> cidr = ParseIpv4Cidr(text);
  if (!cidr || cidr->prefix < 8 || cidr->prefix > 30) {
    return InvalidValue(path, text, "must be an IPv4 subnet a.b.c.d/p with p from 8 to 30");
  }
  if (cidr->address != cidr->NetworkAddress()) {
    Ipv4Cidr meant{cidr->NetworkAddress(), cidr->prefix};
    return InvalidValue(
        path, text,
        absl::StrCat("host bits must be zero (did you mean ", FormatIpv4Cidr(meant), "?)"));
  }
  return cidr;
}

absl::Status ValidateLinkShape(const std::string& path, const v1::LinkShape& shape) {
  uint32_t kbps = shape.bandwidth_kbps();
  if (kbps != 0 && (kbps < kMinBandwidthKbps || kbps > kMaxBandwidthKbps)) {
    return Invalid(path + ".bandwidth_kbps",
                   absl::StrCat("must be 0 (unlimited) or ", kMinBandwidthKbps, " to ",
                                kMaxBandwidthKbps, " kbit/s, got ", kbps));
  }
  if (shape.latency_ms() > kMaxLatencyMs) {
    return Invalid(path + ".latency_ms", absl::StrCat("must be 0 to ", kMaxLatencyMs,
                                                      " ms (one way), got ", shape.latency_ms()));
  }
  float loss = shape.loss_percent();
  if (!(loss >= 0 && loss <= kMaxLossPercent)) {  // also refuses NaN
    return Invalid(path + ".loss_percent",
                   absl::StrCat("must be a percentage from 0 to 100, got ", loss));
  }
  return absl::OkStatus();
}

absl::StatusOr<Networks> ValidateNetworks(const v1::Topology& topology) {
  RETURN_IF_ERROR(CheckCount("networks", topology.networks_size(), kMaxNetworks, "networks"));
  Networks networks;
  absl::flat_hash_map<std::string, int> first;
  for (int i = 0; i < topology.networks_size(); ++i) {
    const v1::Network& net = topology.networks(i);
    std::string path = absl::StrCat("networks[", i, "]");
    RETURN_IF_ERROR(ValidateObjectName(path + ".name", net.name()));
    auto [it, inserted] = first.try_emplace(net.name(), i);
    if (!inserted) {
      return Invalid(path + ".name", absl::StrCat("duplicate network name \"", net.name(),
                                                  "\" (also networks[", it->second, "])"));
    }
    ASSIGN_OR_RETURN(networks.by_name[net.name()].cidr,
                     ValidateNetworkCidr(path + ".cidr", net.cidr()));
    if (IsShaped(net)) RETURN_IF_ERROR(ValidateLinkShape(path + ".shape", net.shape()));
    absl::StrAppend(&networks.names, i == 0 ? "" : ", ", net.name());
  }
  return networks;
}

absl::Status ValidateNodeFields(const v1::Node& node, const std::string& path) {
  RETURN_IF_ERROR(ValidateObjectName(path + ".name", node.name()));
  if (node.role() == v1::NODE_ROLE_UNSPECIFIED || !v1::NodeRole_IsValid(node.role())) {
    return Invalid(path + ".role", absl::StrCat("must be one of: ", AllRoleWords()));
  }
  RETURN_IF_ERROR(ValidateImageName(path + ".image", node.image()));
  if (node.vcpus() < 1 || node.vcpus() > kMaxVcpus) {
    return Invalid(path + ".vcpus",
                   absl::StrCat("must be 1 to ", kMaxVcpus, " vCPUs, got ", node.vcpus()));
  }
  if (node.memory_mib() < kMinMemoryMib || node.memory_mib() > kMaxMemoryMib) {
    return Invalid(path + ".memory_mib",
                   absl::StrCat("must be ", kMinMemoryMib, " to ", kMaxMemoryMib, " MiB, got ",
                                node.memory_mib()));
  }
  return absl::OkStatus();
}

absl::Status ValidateDisks(const v1::Node& node, const std::string& path) {
  RETURN_IF_ERROR(
      CheckCount(path + ".disks", node.disks_size(), kMaxDisksPerNode, "disks per node"));
  absl::flat_hash_map<std::string, int> first;
  for (int i = 0; i < node.disks_size(); ++i) {
    const v1::Disk& disk = node.disks(i);
    std::string disk_path = absl::StrCat(path, ".disks[", i, "]");
    RETURN_IF_ERROR(ValidateObjectName(disk_path + ".name", disk.name()));
    auto [it, inserted] = first.try_emplace(disk.name(), i);
    if (!inserted) {
      return Invalid(disk_path + ".name",
                     absl::StrCat("duplicate disk name \"", disk.name(), "\" (also ", path,
                                  ".disks[", it->second, "])"));
    }
    if (disk.size_mib() < 1 || disk.size_mib() > kMaxDiskMib) {
      return Invalid(disk_path + ".size_mib",
                     absl::StrCat("must be 1 to ", kMaxDiskMib, " MiB, got ", disk.size_mib()));
    }
  }
  return absl::OkStatus();
}

// Refuses the network and broadcast addresses of `cidr`, named `what` in the message.
absl::Status CheckHostAddress(const std::string& path, absl::string_view text, uint32_t address,
                              const Ipv4Cidr& cidr, absl::string_view what) {
  if (address != cidr.NetworkAddress() && address != cidr.BroadcastAddress()) {
    return absl::OkStatus();
  }
  Ipv4Cidr subnet{cidr.NetworkAddress(), cidr.prefix};
  return InvalidValue(path, text,
                      absl::StrCat("is the network or broadcast address of ", what, " ",
                                   FormatIpv4Cidr(subnet), ", not a host address"));
}

absl::Status ValidateNicAddress(const v1::Nic& nic, const std::string& path,
                                const NetworkInfo& network, AddressBook* taken) {
  std::optional<Ipv4Cidr> address = ParseIpv4Cidr(nic.address());
  if (!address || address->prefix < 1 || address->prefix > 30) {
    return InvalidValue(path, nic.address(),
                        "must be an IPv4 address with prefix length, a.b.c.d/p with p from "
                        "1 to 30");
  }
  RETURN_IF_ERROR(
      CheckHostAddress(path, nic.address(), address->address, *address, "its own subnet"));
  if (network.cidr) {
    std::string what = absl::StrCat("network ", nic.network());
    if (!network.cidr->Contains(address->address)) {
      return InvalidValue(path, nic.address(),
                          absl::StrCat("is outside ", what, " ", FormatIpv4Cidr(*network.cidr)));
    }
    RETURN_IF_ERROR(CheckHostAddress(path, nic.address(), address->address, *network.cidr, what));
  }
  auto [it, inserted] = taken->try_emplace({nic.network(), address->address}, path);
  if (inserted) return absl::OkStatus();
  return InvalidValue(path, nic.address(),
                      absl::StrCat("duplicate address ", FormatIpv4(address->address),
                                   " on network ", nic.network(), " (also ", it->second, ")"));
}

absl::Status ValidateNics(const v1::Node& node, const std::string& path, const Networks& networks,
                          AddressBook* taken) {
  RETURN_IF_ERROR(CheckCount(path + ".nics", node.nics_size(), kMaxNicsPerNode, "NICs per node"));
  for (int i = 0; i < node.nics_size(); ++i) {
    const v1::Nic& nic = node.nics(i);
    std::string nic_path = absl::StrCat(path, ".nics[", i, "]");
    auto network = networks.by_name.find(nic.network());
    if (network == networks.by_name.end()) {
      std::string known = networks.names.empty() ? "the topology has no networks"
                                                 : "must name one of: " + networks.names;
      return Invalid(
          nic_path + ".network",
          absl::StrCat("unknown network \"", absl::CHexEscape(nic.network()), "\" (", known, ")"));
    }
    if (nic.address().empty()) continue;
    RETURN_IF_ERROR(ValidateNicAddress(nic, nic_path + ".address", network->second, taken));
  }
  return absl::OkStatus();
}

// Every id must be in the built-in catalogue (topologies/standard-items.yaml), once per node.
absl::Status ValidateCovers(const v1::Node& node, const std::string& path) {
  if (node.covers().empty()) return absl::OkStatus();
  const absl::StatusOr<StandardCatalogue>& catalogue = BuiltInStandardCatalogue();
  if (!catalogue.ok()) return catalogue.status();
  absl::flat_hash_map<std::string, int> first;
  for (int i = 0; i < node.covers_size(); ++i) {
    const std::string& id = node.covers(i);
    std::string item_path = absl::StrCat(path, ".covers[", i, "]");
    if (catalogue->Find(id) == nullptr) {
      return Invalid(item_path, absl::StrCat("unknown catalogue item \"", absl::CHexEscape(id),
                                             "\" (see topologies/standard-items.yaml)"));
    }
    auto [it, inserted] = first.try_emplace(id, i);
    if (!inserted) {
      return Invalid(item_path, absl::StrCat("duplicate catalogue item \"", id, "\" (also ", path,
                                             ".covers[", it->second, "])"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateNodes(const v1::Topology& topology, const Networks& networks) {
  if (topology.nodes_size() < 1 || topology.nodes_size() > kMaxNodes) {
    return Invalid(
        "nodes", absl::StrCat("must list 1 to ", kMaxNodes, " nodes, got ", topology.nodes_size()));
  }
  absl::flat_hash_map<std::string, int> first;
  AddressBook taken;
  for (int i = 0; i < topology.nodes_size(); ++i) {
    const v1::Node& node = topology.nodes(i);
    std::string path = absl::StrCat("nodes[", i, "]");
    RETURN_IF_ERROR(ValidateNodeFields(node, path));
    auto [it, inserted] = first.try_emplace(node.name(), i);
    if (!inserted) {
      return Invalid(path + ".name", absl::StrCat("duplicate node name \"", node.name(),
                                                  "\" (also nodes[", it->second, "])"));
    }
    RETURN_IF_ERROR(ValidateNics(node, path, networks, &taken));
    RETURN_IF_ERROR(ValidateDisks(node, path));
    RETURN_IF_ERROR(ValidateCovers(node, path));
  }
  return absl::OkStatus();
}

// A shaped network is a point-to-point link: exactly two NICs, one at each end, so that
// its shape can be applied to the two of them (or to an emulator put between them).
absl::Status ValidateShapedLinks(const v1::Topology& topology) {
  for (int i = 0; i < topology.networks_size(); ++i) {
    const v1::Network& net = topology.networks(i);
    if (!IsShaped(net)) continue;
    std::vector<std::string> ends;
    for (int n = 0; n < topology.nodes_size(); ++n) {
      const v1::Node& node = topology.nodes(n);
      for (int k = 0; k < node.nics_size(); ++k) {
        if (node.nics(k).network() != net.name()) continue;
        ends.push_back(absl::StrCat("nodes[", n, "].nics[", k, "]"));
      }
    }
    if (ends.size() == 2) continue;
    return Invalid(absl::StrCat("networks[", i, "].shape"),
                   absl::StrCat("a shaped network must join exactly two NICs (a point-to-point "
                                "link), got ", ends.size(),
                                ends.empty() ? "" : absl::StrCat(": ", absl::StrJoin(ends, ", "))));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTopology(const v1::Topology& topology) {
  RETURN_IF_ERROR(ValidateObjectName("name", topology.name()));
  ASSIGN_OR_RETURN(Networks networks, ValidateNetworks(topology));
  RETURN_IF_ERROR(ValidateNodes(topology, networks));
  return ValidateShapedLinks(topology);
}

}  // namespace labrack
