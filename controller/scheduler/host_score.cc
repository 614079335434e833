// Ranking of hosts that fit (see host_score.h). No state; thread-safe.
#include "controller/scheduler/host_score.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace labrack::controller::scheduler_internal {
namespace {

// Share of `offered` still free after placing `need`, in basis points.
int64_t ShareLeft(int64_t free, uint64_t need, int64_t offered) {
  if (offered <= 0) return 0;
  const double left = static_cast<double>(free) - static_cast<double>(need);
  const double share = std::floor(left * kWholeHost / static_cast<double>(offered));
  return std::clamp(static_cast<int64_t>(share), int64_t{0}, kWholeHost);
}

// Spread prefers the most room left, pack the least.
int64_t Oriented(int64_t share_left, Strategy strategy) {
  return strategy == Strategy::kPack ? kWholeHost - share_left : share_left;
}

bool CachesAll(const std::vector<std::string>& cached, const std::vector<std::string>& images) {
  return std::all_of(images.begin(), images.end(), [&](const std::string& image) {
    return std::find(cached.begin(), cached.end(), image) != cached.end();
  });
}

}  // namespace

HostScore ScoreHost(const HostView& host, const FreeCapacity& free, const SandboxNeeds& needs,
                    const SchedulerPolicy& policy) {
  const int64_t memory_left = ShareLeft(free.memory_mib, needs.capacity.memory_mib(),
                                        Offered(host.total.memory_mib(), policy.memory_overcommit));
  const int64_t vcpus_left = ShareLeft(free.vcpus, needs.capacity.vcpus(),
                                       Offered(host.total.vcpus(), policy.cpu_overcommit));
  HostScore score;
  score.primary = Oriented(memory_left, policy.strategy);
  if (CachesAll(host.cached_images, needs.images)) score.primary += kLocalityBonus;
  score.vcpus = Oriented(vcpus_left, policy.strategy);
  return score;
}

bool RanksAbove(const HostScore& a, const HostView& host_a, const HostScore& b,
                const HostView& host_b) {
  if (a.primary != b.primary) return a.primary > b.primary;
  if (a.vcpus != b.vcpus) return a.vcpus > b.vcpus;
  return host_a.host_id < host_b.host_id;
}

}  // namespace labrack::controller::scheduler_internal
