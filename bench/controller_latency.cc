// Part 1 of the controller benchmark: create-to-ready latency of one sandbox through the
// controller against the worker alone. With FakeHypervisor workers the guests are ready as
// soon as they start, so the difference is the controller's own cost (store transactions,
// reconciler wake-up, the extra RPC hops, event delivery); with real guests it is measured
// against boot times of seconds. Single-threaded driver; the servers run in this process.
#include <cstdio>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_cluster.h"
#include "bench/bench_support.h"
#include "bench/controller_bench.h"
#include "bench/host_probe.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "worker/hypervisor/fake_hypervisor.h"

namespace labrack::bench {
namespace {

constexpr absl::Duration kFakeDeadline = absl::Seconds(30);
constexpr absl::Duration kPollInterval = absl::Milliseconds(1);

// One create and destroy, in ms from the create call. Zero where a mark does not apply.
struct Sample {
  double ready = 0;         // the worker answered READY, or the controller said READY
  double created = 0;       // controller: CreateSandbox returned (SCHEDULED)
  double provisioning = 0;  // controller: the PROVISIONING event arrived
  double first_create = 0;  // the worker created its first network, volume or domain
  double last_start = 0;    // the worker started its last domain
  double destroy = 0;       // from the destroy call until the sandbox is gone
  double guest_cpu = 0;     // real guests: CPU seconds their qemu processes used until READY
};

enum class Wait { kWatch, kPoll };

// CPU seconds the sandbox's qemu processes used so far (0 for fake guests).
double GuestCpu(const std::string& sandbox_id, const v1::Topology& topology) {
  std::vector<std::string> domains;
  for (const v1::Node& n : topology.nodes()) domains.push_back(DomainName(sandbox_id, n.name()));
  double sum = 0;
  for (const auto& [name, seconds] : QemuCpuSeconds(domains)) sum += seconds;
  return sum;
}

void MarkHypervisor(TimingHypervisor* hv, absl::Time t0, Sample& s) {
  if (hv == nullptr) return;
  TimingHypervisor::Marks m = hv->marks();
  if (m.first_create != absl::InfinitePast()) s.first_create = Ms(m.first_create - t0);
  if (m.last_start != absl::InfinitePast()) s.last_start = Ms(m.last_start - t0);
}

absl::StatusOr<Sample> WorkerOnce(StandaloneWorker& worker, TimingHypervisor* hv,
                                  const v1::Topology& topology, absl::Duration deadline) {
  v1::SandboxSpec spec = NewSpec(topology);
  if (hv) hv->Reset();
  absl::Time t0 = absl::Now();
  absl::StatusOr<v1::SandboxStatus> status = worker.CreateAndWait(spec, deadline);
  Sample s;
  s.ready = Ms(absl::Now() - t0);
  MarkHypervisor(hv, t0, s);
  if (hv == nullptr) s.guest_cpu = GuestCpu(spec.sandbox_id(), topology);
  absl::Time t1 = absl::Now();
  absl::StatusOr<bool> destroyed = worker.Destroy(spec.sandbox_id());
  s.destroy = Ms(absl::Now() - t1);
  RETURN_IF_ERROR(status.status());
  if (status->phase() != v1::SANDBOX_PHASE_READY) {
    return absl::InternalError(absl::StrCat("worker: sandbox ", v1::SandboxPhase_Name(status->phase()),
                                            ": ", status->message()));
  }
  RETURN_IF_ERROR(destroyed.status());
  return s;
}

// GetSandbox every millisecond until READY: what a client without a stream would do.
absl::StatusOr<absl::Time> PollReady(ControllerClient& client, const std::string& id,
                                     absl::Time deadline) {
  for (;;) {
    ASSIGN_OR_RETURN(v1::Sandbox s, client.Get(id));
    absl::Time now = absl::Now();
    if (s.phase() == v1::SANDBOX_PHASE_READY) return now;
    if (s.phase() == v1::SANDBOX_PHASE_FAILED) {
      return absl::FailedPreconditionError(absl::StrCat("sandbox ", id, " FAILED: ", s.message()));
    }
    if (now > deadline) return absl::DeadlineExceededError(absl::StrCat("sandbox ", id, " not READY"));
    RETURN_IF_ERROR(CheckInterrupted());
    absl::SleepFor(kPollInterval);
  }
}

absl::StatusOr<Sample> ControllerOnce(BenchCluster& cluster, TimingHypervisor* hv, Wait wait,
                                      const v1::Topology& topology, absl::Duration deadline) {
  if (hv) hv->Reset();
  absl::Time t0 = absl::Now();
  ASSIGN_OR_RETURN(v1::Sandbox created, cluster.client().Create(cluster.topology()));
  Sample s;
  s.created = Ms(absl::Now() - t0);
  const std::string& id = created.sandbox_id();
  absl::StatusOr<absl::Time> ready =
      wait == Wait::kWatch ? cluster.events().WaitForPhase(id, v1::SANDBOX_PHASE_READY, t0 + deadline)
                           : PollReady(cluster.client(), id, t0 + deadline);
  if (ready.ok()) s.ready = Ms(*ready - t0);
  if (auto p = cluster.events().Arrived(id, v1::SANDBOX_PHASE_PROVISIONING)) s.provisioning = Ms(*p - t0);
  MarkHypervisor(hv, t0, s);
  if (hv == nullptr) s.guest_cpu = GuestCpu(id, topology);
  absl::Time t1 = absl::Now();
  absl::Status destroyed = cluster.DestroyAll({id}, deadline);
  s.destroy = Ms(absl::Now() - t1);
  RETURN_IF_ERROR(ready.status());
  RETURN_IF_ERROR(destroyed);
  return s;
}

// Runs `once` warmup + n times and keeps the last n.
absl::StatusOr<std::vector<Sample>> Repeat(int warmup, int n,
                                           const std::function<absl::StatusOr<Sample>()>& once) {
  std::vector<Sample> kept;
  for (int i = 0; i < warmup + n; ++i) {
    RETURN_IF_ERROR(CheckInterrupted());
    ASSIGN_OR_RETURN(Sample s, once());
    if (i >= warmup) kept.push_back(s);
  }
  return kept;
}

Summary Of(const std::vector<Sample>& samples, double Sample::*field) {
  std::vector<double> v;
  for (const Sample& s : samples) v.push_back(s.*field);
  return Summarize(v);
}

void PrintFakeReport(const std::vector<Sample>& alone, const std::vector<Sample>& watch,
                     const std::vector<Sample>& poll) {
  Summary a = Of(alone, &Sample::ready), w = Of(watch, &Sample::ready), p = Of(poll, &Sample::ready);
  std::printf("\ncreate -> READY, ms from the create call (%d runs each):\n", a.n);
  std::printf("  %-52s %s\n", "worker alone: LabWorker.CreateSandbox(wait_ready)", FormatSummary(a, "ms").c_str());
  std::printf("  %-52s %s\n", "controller: READY event on WatchEvents", FormatSummary(w, "ms").c_str());
  std::printf("  %-52s %s\n", "controller: GetSandbox every 1 ms sees READY", FormatSummary(p, "ms").c_str());
  std::printf("controller overhead (difference of mean / p50 / p95; aim < 50 ms):\n");
  std::printf("  watch - worker alone: %.2f / %.2f / %.2f ms\n", w.mean - a.mean, w.p50 - a.p50, w.p95 - a.p95);
  std::printf("  poll  - worker alone: %.2f / %.2f / %.2f ms\n", p.mean - a.mean, p.p50 - a.p50, p.p95 - a.p95);
  std::printf("where the time goes (means, ms from the create call):\n");
  std::printf("  %-22s %10s %13s %13s %13s %8s\n", "", "returned", "PROVISIONING", "first create",
              "last start", "READY");
  for (const auto& [name, v] : {std::pair{"worker alone", &alone}, {"controller, watch", &watch},
                                {"controller, poll", &poll}}) {
    std::printf("  %-22s %10.2f %13.2f %13.2f %13.2f %8.2f\n", name, Of(*v, &Sample::created).mean,
                Of(*v, &Sample::provisioning).mean, Of(*v, &Sample::first_create).mean,
                Of(*v, &Sample::last_start).mean, Of(*v, &Sample::ready).mean);
  }
  std::printf("destroy, ms (worker: DestroySandbox returns; controller: DESTROYED event):\n");
  std::printf("  %-22s %s\n", "worker alone", FormatSummary(Of(alone, &Sample::destroy), "ms").c_str());
  std::printf("  %-22s %s\n", "controller", FormatSummary(Of(watch, &Sample::destroy), "ms").c_str());
}

void PrintRuns(const char* what, const std::vector<Sample>& samples, bool controller) {
  std::printf("  %s:\n", what);
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    std::printf("    run %zu: READY %.2f s", i + 1, s.ready / 1000);
    if (controller) std::printf(" (create returned %.1f ms, PROVISIONING %.1f ms)", s.created, s.provisioning);
    std::printf(", guests' CPU %.1f s, destroy %.2f s\n", s.guest_cpu, s.destroy / 1000);
  }
  Summary r = Of(samples, &Sample::ready);
  std::printf("    mean %.2f s, min %.2f s, max %.2f s\n", r.mean / 1000, r.min / 1000, r.max / 1000);
}

}  // namespace

absl::Status RunFakeLatency(const FakeLatencyOptions& options) {
  ASSIGN_OR_RETURN(Inputs inputs, LoadInputs(options.common));
  ASSIGN_OR_RETURN(std::unique_ptr<TempDir> dir, TempDir::Make());
  std::printf("part 1a: %s through the controller vs the worker alone, FakeHypervisor workers,\n"
              "%d runs after %d warm-up runs each\n",
              inputs.topology.name().c_str(), options.iterations, options.warmup);
  std::vector<Sample> alone, watch, poll;
  {
    auto owned = std::make_unique<TimingHypervisor>(std::make_unique<worker::FakeHypervisor>("LABRACK-READY"));
    TimingHypervisor* hv = owned.get();
    worker::WorkerOptions w;
    w.state_dir = dir->path() + "/alone";
    w.host_id = "fake-alone";
    w.domain_type = "qemu";
    ASSIGN_OR_RETURN(std::unique_ptr<StandaloneWorker> worker, StandaloneWorker::Start(w, inputs, std::move(owned)));
    ASSIGN_OR_RETURN(alone, Repeat(options.warmup, options.iterations, [&] {
                       return WorkerOnce(*worker, hv, inputs.topology, kFakeDeadline);
                     }));
  }
  auto owned = std::make_unique<TimingHypervisor>(std::make_unique<worker::FakeHypervisor>("LABRACK-READY"));
  TimingHypervisor* hv = owned.get();
  ClusterOptions c;
  c.state_dir = dir->path() + "/controller";
  c.host_id = "fake-host";
  ASSIGN_OR_RETURN(std::unique_ptr<BenchCluster> cluster, BenchCluster::Start(c, inputs, std::move(owned)));
  ASSIGN_OR_RETURN(watch, Repeat(options.warmup, options.iterations,
                                 [&] { return ControllerOnce(*cluster, hv, Wait::kWatch, inputs.topology, kFakeDeadline); }));
  ASSIGN_OR_RETURN(poll, Repeat(options.warmup, options.iterations,
                                [&] { return ControllerOnce(*cluster, hv, Wait::kPoll, inputs.topology, kFakeDeadline); }));
  PrintFakeReport(alone, watch, poll);
  return absl::OkStatus();
}

// Both setups live side by side on two host ids and take turns, so that a change in the
// machine's load hits both alike.
absl::Status RunLibvirtLatency(const LibvirtLatencyOptions& options) {
  ASSIGN_OR_RETURN(Inputs inputs, LoadInputs(options.common));
  ASSIGN_OR_RETURN(std::unique_ptr<TempDir> dir, TempDir::Make());
  const std::string host_id = BenchHostId(), alone_id = BenchHostId() + "-w";
  const std::string& uri = options.common.libvirt_uri;
  ASSIGN_OR_RETURN(std::unique_ptr<HostSweep> sweep, HostSweep::Start(uri, host_id));
  ASSIGN_OR_RETURN(std::unique_ptr<HostSweep> alone_sweep, HostSweep::Start(uri, alone_id));
  const absl::Duration deadline = options.ready_timeout + absl::Seconds(60);
  std::printf("part 1b: %s on real guests (%s, domain type qemu), %d runs each way, taking turns:\n"
              "a worker alone (host %s) and an all-in-one controller (host %s)\n",
              inputs.topology.name().c_str(), uri.c_str(), options.runs, alone_id.c_str(), host_id.c_str());
  worker::WorkerOptions w;
  w.libvirt_uri = uri;
  w.state_dir = dir->path() + "/alone";
  w.host_id = alone_id;
  w.domain_type = "qemu";
  w.ready_timeout = options.ready_timeout;
  ASSIGN_OR_RETURN(std::unique_ptr<StandaloneWorker> worker, StandaloneWorker::Start(w, inputs, nullptr));
  ClusterOptions c;
  c.state_dir = dir->path() + "/controller";
  c.host_id = host_id;
  c.libvirt_uri = uri;
  c.ready_timeout = options.ready_timeout;
  ASSIGN_OR_RETURN(std::unique_ptr<BenchCluster> cluster, BenchCluster::Start(c, inputs, nullptr));
  std::vector<Sample> alone, through;
  for (int i = 0; i < options.runs; ++i) {
    for (int turn = 0; turn < 2; ++turn) {
      RETURN_IF_ERROR(CheckInterrupted());
      if ((i + turn) % 2 == 0) {
        ASSIGN_OR_RETURN(alone.emplace_back(), WorkerOnce(*worker, nullptr, inputs.topology, deadline));
      } else {
        ASSIGN_OR_RETURN(through.emplace_back(),
                         ControllerOnce(*cluster, nullptr, Wait::kWatch, inputs.topology, deadline));
      }
    }
  }
  std::printf("\ncreate -> READY on real guests (odd runs: worker first; even runs: controller first):\n");
  PrintRuns("worker alone: LabWorker.CreateSandbox(wait_ready)", alone, false);
  PrintRuns("all-in-one controller: READY event on WatchEvents", through, true);
  std::printf("  difference of means: %.2f s (boot times vary by seconds between runs)\n",
              (Of(through, &Sample::ready).mean - Of(alone, &Sample::ready).mean) / 1000);
  return absl::OkStatus();
}

}  // namespace labrack::bench
