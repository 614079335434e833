// libvirt network XML for one isolated sandbox segment (a bridge with no forwarding, no host
// address and no DHCP), built from a NetworkSpec and read back into a NetworkInfo.
// Pure functions; thread-safe.
#ifndef LABRACK_WORKER_XML_NETWORK_XML_H_
#define LABRACK_WORKER_XML_NETWORK_XML_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "worker/hypervisor/types.h"

namespace labrack::worker {

// <network> with name, tag, <bridge stp='off' delay='0'/> and, when
// bandwidth_average_kibps > 0, <bandwidth> shaping both directions. No <forward> and no
// <ip>: the host has no address on the segment, so guests reach neither it nor beyond.
std::string BuildNetworkXml(const NetworkSpec& spec);

// Name, bridge and tag of a network document (ours or libvirt's dump); `active` is not in
// the XML and stays false, and an untagged network has an empty tag. InvalidArgument when
// the XML is not well-formed, its root is not <network>, or its tag is malformed.
absl::StatusOr<NetworkInfo> ParseNetworkXml(absl::string_view xml);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_XML_NETWORK_XML_H_
