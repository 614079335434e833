// Limits of a network's LinkShape and what its emulation costs: shared by validation, the
// worker that builds shaped links and the controller that reserves room for them.
// Constants and pure functions only; thread-safe.
#ifndef LABRACK_COMMON_TOPOLOGY_LINK_SHAPE_H_
#define LABRACK_COMMON_TOPOLOGY_LINK_SHAPE_H_

#include <cstdint>

#include "labrack/v1/types.pb.h"

namespace labrack {

// 0 means unshaped; otherwise from 64 kbit/s to 10 Gbit/s.
inline constexpr uint32_t kMinBandwidthKbps = 64;
inline constexpr uint32_t kMaxBandwidthKbps = 10'000'000;
inline constexpr uint32_t kMaxLatencyMs = 10'000;
inline constexpr float kMaxLossPercent = 100.0f;

// A host kernel without netem shapes each link with a hidden guest of this image
// (images/build.sh linkemu), sized as below. The controller reserves it for
// every shaped network, whatever the host, as a simple upper bound.
inline constexpr char kLinkEmulatorImage[] = "linkemu";
inline constexpr uint32_t kLinkEmulatorVcpus = 1;
inline constexpr uint32_t kLinkEmulatorMemoryMib = 96;

// Whether the network declares a shape at all (it must then be point-to-point).
inline bool IsShaped(const v1::Network& network) { return network.has_shape(); }

}  // namespace labrack

#endif  // LABRACK_COMMON_TOPOLOGY_LINK_SHAPE_H_
