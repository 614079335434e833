// libFuzzer target for topology YAML (ParseTopologyYaml): any bytes must give a topology or
// an InvalidArgument naming the input, never a crash, hang, leak or undefined behaviour. A
// topology it accepts must also pass the validator on its own and get addresses assigned
// without breaking a rule, since the controller does both with what the parser returns.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/topology/topology_validate.h"
#include "common/topology/topology_yaml.h"
#include "tests/fuzz/fuzz_check.h"

namespace labrack::fuzz {
namespace {

bool HasCidr(const v1::Topology& topology, const std::string& network) {
  for (const v1::Network& net : topology.networks()) {
    if (net.name() == network) return !net.cidr().empty();
  }
  return false;
}

// Explicit addresses stay as written; every NIC on a network with a cidr gets one.
void CheckAssigned(const v1::Topology& before, const v1::Topology& after) {
  absl::Status valid = ValidateTopology(after);
  Require(valid.ok(), "assigned addresses must keep the topology valid", valid.ToString());
  for (int n = 0; n < before.nodes_size(); ++n) {
    for (int k = 0; k < before.nodes(n).nics_size(); ++k) {
      const v1::Nic& was = before.nodes(n).nics(k);
      const v1::Nic& now = after.nodes(n).nics(k);
      Require(was.address().empty() || was.address() == now.address(),
              "an explicit address must be kept", now.address());
      Require(!now.address().empty() || !HasCidr(after, now.network()),
              "a NIC on a network with a cidr must get an address", now.network());
    }
  }
}

void CheckAccepted(const v1::Topology& topology) {
  absl::Status valid = ValidateTopology(topology);
  Require(valid.ok(), "a parsed topology must validate on its own", valid.ToString());
  absl::StatusOr<v1::Topology> assigned = WithAssignedAddresses(topology);
  if (!assigned.ok()) {
    Require(assigned.status().code() == absl::StatusCode::kResourceExhausted,
            "address assignment may only run out of addresses", assigned.status().ToString());
    return;
  }
  CheckAssigned(topology, *assigned);
}

}  // namespace
}  // namespace labrack::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<labrack::v1::Topology> topology =
      labrack::ParseTopologyYaml(text, labrack::fuzz::kSourceName);
  if (topology.ok()) {
    labrack::fuzz::CheckAccepted(*topology);
  } else {
    labrack::fuzz::RequireRefusal(topology.status());
  }
  return 0;
}
