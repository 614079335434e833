// Placement of a sandbox (see scheduler.h): one pass over the hosts that filters
// (host_filter.h) and keeps the best-ranked (host_score.h); the reasons are gathered
// only when nothing fits (no_fit_message.h). No state; thread-safe.
#include "controller/scheduler/scheduler.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "common/topology/link_shape.h"
#include "controller/scheduler/host_filter.h"
#include "controller/scheduler/host_score.h"
#include "controller/scheduler/no_fit_message.h"

namespace labrack::controller {

using scheduler_internal::FreeCapacity;
using scheduler_internal::FreeOn;
using scheduler_internal::HostScore;
using scheduler_internal::Judge;

// Blank disks are counted at their full size although they are sparse: a guest may fill
// them (RAID exercises do), and running out of disk mid-exam is worse than a refusal.
// Overlays on the base images are thin copies that start near empty and are not counted;
// the image cache's disk is the worker's own concern.
// Every shaped network counts one link-emulator guest: a host without netem runs one, and
// the scheduler does not know yet which host it picks (a simple, safe upper bound).
v1::Capacity NeedsOf(const v1::Topology& topology) {
  uint64_t vcpus = 0;
  uint64_t memory_mib = 0;
  uint64_t disk_mib = 0;
  for (const v1::Node& node : topology.nodes()) {
    vcpus += node.vcpus();
    memory_mib += node.memory_mib();
    for (const v1::Disk& disk : node.disks()) disk_mib += disk.size_mib();
  }
  for (const v1::Network& network : topology.networks()) {
    if (!IsShaped(network)) continue;
    vcpus += kLinkEmulatorVcpus;
    memory_mib += kLinkEmulatorMemoryMib;
  }
  v1::Capacity needs;
  // Saturates rather than wraps; such a topology is refused by every host anyway.
  needs.set_vcpus(
      static_cast<uint32_t>(std::min<uint64_t>(vcpus, std::numeric_limits<uint32_t>::max())));
  needs.set_memory_mib(memory_mib);
  needs.set_disk_mib(disk_mib);
  return needs;
}

// Nodes without an image are left out: topology validation rejects them, and an empty name
// would only make every host miss the locality bonus. A shaped network adds the link
// emulator's image, so that it is distributed to hosts like any other.
std::vector<std::string> ImagesOf(const v1::Topology& topology) {
  std::vector<std::string> images;
  for (const v1::Node& node : topology.nodes()) {
    if (!node.image().empty()) images.push_back(node.image());
  }
  for (const v1::Network& network : topology.networks()) {
    if (IsShaped(network)) images.push_back(kLinkEmulatorImage);
  }
  std::sort(images.begin(), images.end());
  images.erase(std::unique(images.begin(), images.end()), images.end());
  return images;
}

absl::StatusOr<std::string> PickHost(const std::vector<HostView>& hosts, const SandboxNeeds& needs,
                                     const SchedulerPolicy& policy, absl::Time now) {
  const HostView* best = nullptr;
  HostScore best_score;
  for (const HostView& host : hosts) {
    const FreeCapacity free = FreeOn(host, policy);
    if (!Judge(host, free, needs.capacity, policy, now).Fits()) continue;
    const HostScore score = scheduler_internal::ScoreHost(host, free, needs, policy);
    if (best == nullptr || scheduler_internal::RanksAbove(score, host, best_score, *best)) {
      best = &host;
      best_score = score;
    }
  }
  if (best == nullptr) {
    return absl::ResourceExhaustedError(
        scheduler_internal::NoFitMessage(hosts, needs.capacity, policy, now));
  }
  return best->host_id;
}

// In the order of `hosts`, so a caller that lists hosts by id gets them by id.
std::vector<std::string> FittingHosts(const std::vector<HostView>& hosts, const SandboxNeeds& needs,
                                      const SchedulerPolicy& policy, absl::Time now) {
  std::vector<std::string> fitting;
  for (const HostView& host : hosts) {
    if (Judge(host, FreeOn(host, policy), needs.capacity, policy, now).Fits()) {
      fitting.push_back(host.host_id);
    }
  }
  return fitting;
}

v1::Capacity TotalFree(const std::vector<HostView>& hosts, const SchedulerPolicy& policy,
                       absl::Time now) {
  v1::Capacity total;
  for (const HostView& host : hosts) {
    const FreeCapacity free = FreeOn(host, policy);
    // Needing nothing, a host is left out only for being drained or silent.
    if (!Judge(host, free, v1::Capacity(), policy, now).Fits()) continue;
    total.set_vcpus(total.vcpus() + std::max<int64_t>(free.vcpus, 0));
    total.set_memory_mib(total.memory_mib() + std::max<int64_t>(free.memory_mib, 0));
    total.set_disk_mib(total.disk_mib() + std::max<int64_t>(free.disk_mib, 0));
  }
  return total;
}

}  // namespace labrack::controller
