// Validation of a Topology proto, whether it came from YAML or over gRPC, and the assignment
// of addresses to NICs that name none. Pure functions; thread-safe.
#ifndef LABRACK_COMMON_TOPOLOGY_TOPOLOGY_VALIDATE_H_
#define LABRACK_COMMON_TOPOLOGY_TOPOLOGY_VALIDATE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "labrack/v1/types.pb.h"

namespace labrack {

inline constexpr int kMaxNodes = 32;
inline constexpr int kMaxNetworks = 16;
inline constexpr int kMaxNicsPerNode = 16;
inline constexpr int kMaxDisksPerNode = 16;
inline constexpr uint32_t kMaxVcpus = 64;
inline constexpr uint32_t kMinMemoryMib = 32;
inline constexpr uint32_t kMaxMemoryMib = 262144;  // 256 GiB
inline constexpr uint64_t kMaxDiskMib = 4194304;   // 4 TiB

// OK, or InvalidArgument whose message starts with the path of the offending field
// ("nodes[1].memory_mib: ...", "nodes[0].name \"Web_1\": ...") and states the rule.
// Ids in a node's `covers` must be items of BuiltInStandardCatalogue(), each once per node.
absl::Status ValidateTopology(const v1::Topology& topology);

// `topology` with an address for every NIC that has none and sits on a network with a cidr:
// the next free host address of that network in node order, skipping addresses given
// explicitly, with the network's prefix ("10.10.1.1/24"). NICs on networks without a cidr
// keep no address. InvalidArgument if the topology is invalid (see ValidateTopology);
// ResourceExhausted if a network has no free host address left.
absl::StatusOr<v1::Topology> WithAssignedAddresses(v1::Topology topology);

}  // namespace labrack

#endif  // LABRACK_COMMON_TOPOLOGY_TOPOLOGY_VALIDATE_H_
