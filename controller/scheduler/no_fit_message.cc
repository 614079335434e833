// Builds the no-fit message (see no_fit_message.h): tally the reasons per host, then print
// each non-empty group. Runs only when placement failed, so it favours clarity over speed.
// No state; thread-safe.
#include "controller/scheduler/no_fit_message.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/scheduler/host_filter.h"

namespace labrack::controller::scheduler_internal {
namespace {

// Hosts short of one resource, and the most any of them has free.
struct Shortage {
  int hosts = 0;
  int64_t most_free = std::numeric_limits<int64_t>::min();

  void Add(int64_t free) {
    ++hosts;
    most_free = std::max(most_free, free);
  }
};

struct Tally {
  int drained = 0;
  int silent = 0;
  absl::Duration shortest_silence = absl::InfiniteDuration();
  Shortage vcpus;
  Shortage memory;
  Shortage disk;
  int no_disk = 0;  // short of disk because they report none
};

void AddResources(const HostView& host, const Verdict& verdict, const FreeCapacity& free,
                  Tally& tally) {
  if (verdict.short_vcpus) tally.vcpus.Add(free.vcpus);
  if (verdict.short_memory) tally.memory.Add(free.memory_mib);
  if (!verdict.short_disk) return;
  if (host.total.disk_mib() == 0) {
    ++tally.no_disk;
  } else {
    tally.disk.Add(free.disk_mib);
  }
}

Tally TallyOf(const std::vector<HostView>& hosts, const v1::Capacity& needs,
              const SchedulerPolicy& policy, absl::Time now) {
  Tally tally;
  for (const HostView& host : hosts) {
    const FreeCapacity free = FreeOn(host, policy);
    const Verdict verdict = Judge(host, free, needs, policy, now);
    if (verdict.drained) {
      ++tally.drained;
    } else if (verdict.unreachable) {
      ++tally.silent;
      tally.shortest_silence = std::min(tally.shortest_silence, SilenceOf(host, now));
    } else {
      AddResources(host, verdict, free, tally);
    }
  }
  return tally;
}

std::string SilentPhrase(const Tally& tally, const SchedulerPolicy& policy) {
  const bool one = tally.silent == 1;
  const std::string timeout = absl::FormatDuration(policy.heartbeat_timeout);
  if (tally.shortest_silence == absl::InfiniteDuration()) {
    return absl::StrCat(tally.silent, one ? " has" : " have", " never sent a heartbeat");
  }
  const absl::Duration silence = absl::Ceil(tally.shortest_silence, absl::Seconds(1));
  return absl::StrCat(tally.silent, one ? " has" : " have", " sent no heartbeat for ",
                      absl::FormatDuration(silence), one ? "" : " or longer", " (timeout ", timeout,
                      ")");
}

// "1 has only 2 vCPU free at 4x overcommit" / "3 have at most 1024 MiB memory free".
std::string ShortagePhrase(const Shortage& shortage, absl::string_view unit, double overcommit) {
  const bool one = shortage.hosts == 1;
  return absl::StrCat(shortage.hosts, one ? " has only " : " have at most ",
                      std::max<int64_t>(shortage.most_free, 0), " ", unit, " free",
                      overcommit == 1.0 ? "" : absl::StrCat(" at ", overcommit, "x overcommit"));
}

std::vector<std::string> Phrases(const Tally& tally, const SchedulerPolicy& policy) {
  std::vector<std::string> phrases;
  if (tally.drained > 0) phrases.push_back(absl::StrCat(tally.drained, " drained"));
  if (tally.silent > 0) phrases.push_back(SilentPhrase(tally, policy));
  if (tally.vcpus.hosts > 0) {
    phrases.push_back(ShortagePhrase(tally.vcpus, "vCPU", policy.cpu_overcommit));
  }
  if (tally.memory.hosts > 0) {
    phrases.push_back(ShortagePhrase(tally.memory, "MiB memory", policy.memory_overcommit));
  }
  if (tally.disk.hosts > 0) {
    phrases.push_back(ShortagePhrase(tally.disk, "MiB disk", policy.disk_overcommit));
  }
  if (tally.no_disk > 0) {
    phrases.push_back(
        absl::StrCat(tally.no_disk, tally.no_disk == 1 ? " reports" : " report", " no disk"));
  }
  return phrases;
}

}  // namespace

std::string NoFitMessage(const std::vector<HostView>& hosts, const v1::Capacity& needs,
                         const SchedulerPolicy& policy, absl::Time now) {
  std::string message =
      absl::StrCat("no host can fit: needs ", needs.vcpus(), " vCPU, ", needs.memory_mib(),
                   " MiB memory, ", needs.disk_mib(), " MiB disk; ");
  if (hosts.empty()) return absl::StrCat(message, "no hosts are registered");
  const Tally tally = TallyOf(hosts, needs, policy, now);
  return absl::StrCat(message, "of ", hosts.size(), hosts.size() == 1 ? " host: " : " hosts: ",
                      absl::StrJoin(Phrases(tally, policy), ", "));
}

}  // namespace labrack::controller::scheduler_internal
