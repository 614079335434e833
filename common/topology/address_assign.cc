// WithAssignedAddresses (declared in topology_validate.h): hands out the free host addresses
// of each network's cidr to NICs that name none, in node order.
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/topology/ipv4.h"
#include "common/topology/topology_validate.h"

namespace labrack {
namespace {

// The host addresses of one network, handed out lowest first.
class AddressPool {
 public:
  explicit AddressPool(const Ipv4Cidr& cidr) : cidr_(cidr), next_(cidr.NetworkAddress() + 1) {}

  void Take(uint32_t address) { taken_.insert(address); }

  std::optional<uint32_t> Next() {
    for (; next_ < cidr_.BroadcastAddress(); ++next_) {
      if (taken_.insert(next_).second) return next_++;
    }
    return std::nullopt;
  }

  const Ipv4Cidr& cidr() const { return cidr_; }

 private:
  Ipv4Cidr cidr_;
  uint32_t next_;
  absl::flat_hash_set<uint32_t> taken_;
};

// One pool per network with a cidr, with the explicitly given addresses already taken.
// Expects a valid topology.
absl::flat_hash_map<std::string, AddressPool> MakePools(const v1::Topology& topology) {
  absl::flat_hash_map<std::string, AddressPool> pools;
  for (const v1::Network& network : topology.networks()) {
    if (network.cidr().empty()) continue;
    pools.emplace(network.name(), AddressPool(*ParseIpv4Cidr(network.cidr())));
  }
  for (const v1::Node& node : topology.nodes()) {
    for (const v1::Nic& nic : node.nics()) {
      auto pool = pools.find(nic.network());
      if (nic.address().empty() || pool == pools.end()) continue;
      pool->second.Take(ParseIpv4Cidr(nic.address())->address);
    }
  }
  return pools;
}

}  // namespace

absl::StatusOr<v1::Topology> WithAssignedAddresses(v1::Topology topology) {
  RETURN_IF_ERROR(ValidateTopology(topology));
  absl::flat_hash_map<std::string, AddressPool> pools = MakePools(topology);
  for (int i = 0; i < topology.nodes_size(); ++i) {
    v1::Node& node = *topology.mutable_nodes(i);
    for (int j = 0; j < node.nics_size(); ++j) {
      v1::Nic& nic = *node.mutable_nics(j);
      auto pool = pools.find(nic.network());
      if (!nic.address().empty() || pool == pools.end()) continue;
      std::optional<uint32_t> address = pool->second.Next();
      const Ipv4Cidr& cidr = pool->second.cidr();
      if (!address) {
        return absl::ResourceExhaustedError(
            absl::StrCat("nodes[", i, "].nics[", j, "]: no free host address left in network ",
                         nic.network(), " (", FormatIpv4Cidr(cidr), ")"));
      }
      nic.set_address(FormatIpv4Cidr(Ipv4Cidr{*address, cidr.prefix}));
    }
  }
  return topology;
}

}  // namespace labrack
