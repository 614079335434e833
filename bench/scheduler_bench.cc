// Scheduler benchmark: PickHost over a synthetic fleet of 1,000 and 10,000 hosts of mixed
// sizes, loads and image caches, for spread and pack, and the refusal path that explains why
// nothing fits. CPU only, deterministic (fixed seed). Results go to docs/performance.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "controller/scheduler/scheduler.h"

namespace labrack::controller {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
constexpr int kCatalogSize = 30;

struct Shape {
  uint32_t vcpus;
  uint64_t memory_mib;
  uint64_t disk_mib;
};

// Typical rack servers, from small to large.
constexpr Shape kShapes[] = {{16, 64 << 10, 1 << 20},
                             {32, 128 << 10, 2 << 20},
                             {64, 256 << 10, 4 << 20},
                             {96, 512 << 10, 8 << 20}};

std::string ImageName(int i) { return absl::StrCat("img-", i); }

// Reservations as a load between empty and 97% of memory; vCPUs and disk follow the
// memory with some spread, as sandboxes of different topologies do.
void Reserve(HostView& host, std::mt19937& rng) {
  const double load = std::uniform_real_distribution<double>(0.0, 0.97)(rng);
  const double cpu_per_gib = std::uniform_real_distribution<double>(0.5, 3.0)(rng);
  const double memory = load * static_cast<double>(host.total.memory_mib());
  host.reserved.set_memory_mib(static_cast<uint64_t>(memory));
  host.reserved.set_vcpus(static_cast<uint32_t>(memory / 1024 * cpu_per_gib));
  host.reserved.set_disk_mib(static_cast<uint64_t>(load * 0.8 * host.total.disk_mib()));
}

// 5 to 20 images per host, popular ones (low numbers) more often.
void CacheImages(HostView& host, std::mt19937& rng) {
  std::geometric_distribution<int> popularity(0.12);
  const int count = std::uniform_int_distribution<int>(5, 20)(rng);
  for (int i = 0; i < count; ++i) {
    std::string name = ImageName(std::min(popularity(rng), kCatalogSize - 1));
    if (std::find(host.cached_images.begin(), host.cached_images.end(), name) ==
        host.cached_images.end()) {
      host.cached_images.push_back(std::move(name));
    }
  }
}

HostView MakeHost(int i, std::mt19937& rng) {
  HostView host;
  host.host_id = absl::StrCat("host-", i);
  const Shape& shape = kShapes[std::uniform_int_distribution<int>(0, 3)(rng)];
  host.total.set_vcpus(shape.vcpus);
  host.total.set_memory_mib(shape.memory_mib);
  host.total.set_disk_mib(shape.disk_mib);
  Reserve(host, rng);
  CacheImages(host, rng);
  const int fate = std::uniform_int_distribution<int>(0, 99)(rng);
  host.drained = fate < 2;  // 2% drained
  host.last_heartbeat = fate == 2 ? kNow - absl::Minutes(5) : kNow - absl::Seconds(fate % 3);
  return host;
}

std::vector<HostView> Fleet(int size) {
  std::mt19937 rng(42);
  std::vector<HostView> hosts;
  hosts.reserve(size);
  for (int i = 0; i < size; ++i) hosts.push_back(MakeHost(i, rng));
  return hosts;
}

// The smoke lab of docs/performance.md: 3 nodes, 4 vCPUs, 1280 MiB, 3 GiB of blank disks.
SandboxNeeds SmokeLab() {
  SandboxNeeds needs;
  needs.capacity.set_vcpus(4);
  needs.capacity.set_memory_mib(1280);
  needs.capacity.set_disk_mib(3072);
  needs.images = {ImageName(0), ImageName(3), ImageName(7)};
  return needs;
}

// How many hosts cache every image the sandbox uses, to show that locality is in play.
int CachingAll(const std::vector<HostView>& hosts, const std::vector<std::string>& images) {
  return static_cast<int>(std::count_if(hosts.begin(), hosts.end(), [&](const HostView& host) {
    return std::all_of(images.begin(), images.end(), [&](const std::string& image) {
      return std::count(host.cached_images.begin(), host.cached_images.end(), image) > 0;
    });
  }));
}

void BM_PickHost(benchmark::State& state) {
  const std::vector<HostView> hosts = Fleet(static_cast<int>(state.range(0)));
  const SandboxNeeds needs = SmokeLab();
  SchedulerPolicy policy;
  policy.strategy = state.range(1) == 0 ? Strategy::kSpread : Strategy::kPack;
  for (auto _ : state) {
    auto host = PickHost(hosts, needs, policy, kNow);
    if (!host.ok()) state.SkipWithError(std::string(host.status().message()).c_str());
    benchmark::DoNotOptimize(host);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["fitting"] = static_cast<double>(FittingHosts(hosts, needs, policy, kNow).size());
  state.counters["cached_all"] = static_cast<double>(CachingAll(hosts, needs.images));
}
BENCHMARK(BM_PickHost)
    ->ArgNames({"hosts", "pack"})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Args({10000, 0})
    ->Args({10000, 1})
    ->Unit(benchmark::kMicrosecond);

// A sandbox larger than any host: the scan plus the second pass that explains the refusal.
void BM_PickHostRefused(benchmark::State& state) {
  const std::vector<HostView> hosts = Fleet(static_cast<int>(state.range(0)));
  SandboxNeeds needs = SmokeLab();
  needs.capacity.set_memory_mib(uint64_t{1} << 20);
  const SchedulerPolicy policy;
  for (auto _ : state) {
    auto host = PickHost(hosts, needs, policy, kNow);
    if (host.ok()) state.SkipWithError("a host fitted a sandbox larger than any host");
    benchmark::DoNotOptimize(host);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PickHostRefused)
    ->ArgName("hosts")
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace labrack::controller

BENCHMARK_MAIN();
