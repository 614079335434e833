// Placement of a whole sandbox on one host: a pure function of the hosts' state and the
// sandbox's needs, so it is unit-tested and benchmarked without a store or sockets.
// Thread-safe (no state).
#ifndef LABRACK_CONTROLLER_SCHEDULER_SCHEDULER_H_
#define LABRACK_CONTROLLER_SCHEDULER_SCHEDULER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

enum class Strategy {
  kSpread,  // the host with the most room left after placing
  kPack,    // the host with the least room left after placing
};

struct SchedulerPolicy {
  Strategy strategy = Strategy::kSpread;
  // A host offers total * overcommit of each resource.
  double cpu_overcommit = 4.0;
  double memory_overcommit = 1.0;
  double disk_overcommit = 1.0;
  // A host whose last heartbeat is older than this is not a candidate.
  absl::Duration heartbeat_timeout = absl::Seconds(15);
};

// What one sandbox needs from its host.
struct SandboxNeeds {
  v1::Capacity capacity;
  // Image names its nodes use; hosts that cache them score higher.
  std::vector<std::string> images;
};

// One host as the scheduler sees it.
struct HostView {
  std::string host_id;
  v1::Capacity total;
  v1::Capacity reserved;
  bool drained = false;
  absl::Time last_heartbeat;
  std::vector<std::string> cached_images;  // image names
};

// What a topology reserves on a host: sum of its nodes' vCPUs and memory, and the size of
// its blank disks, plus one link emulator (common/topology/link_shape.h) per shaped network.
v1::Capacity NeedsOf(const v1::Topology& topology);
// The images its nodes use, each once, sorted; with "linkemu" when a network is shaped.
std::vector<std::string> ImagesOf(const v1::Topology& topology);

// The best host for `needs`, or ResourceExhausted with a message that names the needed
// capacity and, per reason, why hosts were left out (drained, unreachable, short of vCPU,
// memory or disk, with the largest free amounts), e.g. "no host can fit: needs 3 vCPU,
// 1536 MiB memory, 4096 MiB disk; of 2 hosts: 1 drained, 1 has only 1024 MiB memory free".
// Ties break by host id, so equal inputs give equal answers.
absl::StatusOr<std::string> PickHost(const std::vector<HostView>& hosts,
                                     const SandboxNeeds& needs, const SchedulerPolicy& policy,
                                     absl::Time now);

// What the hosts that take sandboxes now (neither drained nor silent) have left in all, at
// the policy's overcommit; a host holding more than it offers adds nothing.
v1::Capacity TotalFree(const std::vector<HostView>& hosts, const SchedulerPolicy& policy,
                       absl::Time now);

// Every host that could take `needs` now, by the same filter as PickHost.
std::vector<std::string> FittingHosts(const std::vector<HostView>& hosts,
                                      const SandboxNeeds& needs, const SchedulerPolicy& policy,
                                      absl::Time now);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_SCHEDULER_SCHEDULER_H_
