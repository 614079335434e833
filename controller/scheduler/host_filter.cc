// The scheduler's filter (see host_filter.h): integer arithmetic on what hosts offer, so
// that equal inputs always give equal verdicts. No state; thread-safe.
#include "controller/scheduler/host_filter.h"

#include <cmath>
#include <limits>

namespace labrack::controller::scheduler_internal {
namespace {

constexpr int64_t kMaxUnits = std::numeric_limits<int64_t>::max();

// Reservations beyond int64 are nonsense; clamping keeps the subtraction defined.
int64_t Clamped(uint64_t units) {
  return units > static_cast<uint64_t>(kMaxUnits) ? kMaxUnits : static_cast<int64_t>(units);
}

bool Short(uint64_t need, int64_t free) {
  if (need == 0) return false;
  return free < 0 || need > static_cast<uint64_t>(free);
}

}  // namespace

int64_t Offered(uint64_t total, double overcommit) {
  const double product = static_cast<double>(total) * overcommit;
  if (!(product > 0)) return 0;
  // 2^63 as a double; anything at or above it does not fit in int64.
  if (product >= 9223372036854775808.0) return kMaxUnits;
  // The tolerance keeps 0.29 * 100 (28.999999999999996 in binary) at 29.
  return static_cast<int64_t>(std::floor(product + 1e-9));
}

FreeCapacity FreeOn(const HostView& host, const SchedulerPolicy& policy) {
  FreeCapacity free;
  free.vcpus = Offered(host.total.vcpus(), policy.cpu_overcommit) - host.reserved.vcpus();
  free.memory_mib = Offered(host.total.memory_mib(), policy.memory_overcommit) -
                    Clamped(host.reserved.memory_mib());
  free.disk_mib =
      Offered(host.total.disk_mib(), policy.disk_overcommit) - Clamped(host.reserved.disk_mib());
  return free;
}

Verdict Judge(const HostView& host, const FreeCapacity& free, const v1::Capacity& needs,
              const SchedulerPolicy& policy, absl::Time now) {
  Verdict verdict;
  if (host.drained) {
    verdict.drained = true;
    return verdict;
  }
  if (SilenceOf(host, now) > policy.heartbeat_timeout) {
    verdict.unreachable = true;
    return verdict;
  }
  verdict.short_vcpus = Short(needs.vcpus(), free.vcpus);
  verdict.short_memory = Short(needs.memory_mib(), free.memory_mib);
  verdict.short_disk = Short(needs.disk_mib(), free.disk_mib);
  return verdict;
}

}  // namespace labrack::controller::scheduler_internal
