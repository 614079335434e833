// Shaped links -> emulated links; see link_emulation.h.
#include "worker/sandbox/link_emulation.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/topology/link_shape.h"

namespace labrack::worker {
namespace {

std::vector<std::string> NetemParts(const v1::LinkShape& shape, const char* separator) {
  std::vector<std::string> parts;
  if (shape.latency_ms() > 0) {
    parts.push_back(absl::StrCat("delay", separator, shape.latency_ms(), "ms"));
  }
  if (shape.loss_percent() > 0) {
    parts.push_back(absl::StrCat("loss", separator, shape.loss_percent(), "%"));
  }
  if (shape.bandwidth_kbps() > 0) {
    parts.push_back(absl::StrCat("rate", separator, shape.bandwidth_kbps(), "kbit"));
  }
  return parts;
}

v1::Node EmulatorNode(const std::string& network, const std::string& half_a,
                      const std::string& half_b) {
  v1::Node node;
  node.set_name(absl::StrCat(network, ".emu"));
  node.set_role(v1::NODE_ROLE_ROUTER);  // forwards others' frames: no anti-spoofing filter
  node.set_image(kLinkEmulatorImage);
  node.set_vcpus(kLinkEmulatorVcpus);
  node.set_memory_mib(kLinkEmulatorMemoryMib);
  node.add_nics()->set_network(half_a);
  node.add_nics()->set_network(half_b);
  return node;
}

}  // namespace

std::string NetemTcArgs(const v1::LinkShape& shape) {
  return absl::StrJoin(NetemParts(shape, " "), " ");
}

std::string NetemKernelArg(const v1::LinkShape& shape) {
  return absl::StrJoin(NetemParts(shape, "="), ",");
}

std::vector<EmulatedLink> EmulatedLinks(const v1::Topology& topology, bool host_has_netem) {
  std::vector<EmulatedLink> links;
  if (host_has_netem) return links;
  for (int i = 0; i < topology.networks_size(); ++i) {
    const v1::Network& net = topology.networks(i);
    if (!IsShaped(net) || NetemKernelArg(net.shape()).empty()) continue;
    EmulatedLink link;
    link.network = net.name();
    link.network_index = i;
    link.half_a = absl::StrCat(net.name(), ".a");
    link.half_b = absl::StrCat(net.name(), ".b");
    link.emulator = EmulatorNode(net.name(), link.half_a, link.half_b);
    link.netem = NetemKernelArg(net.shape());
    links.push_back(std::move(link));
  }
  return links;
}

}  // namespace labrack::worker
