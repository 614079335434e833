// Part 2 of the controller benchmark: many sandboxes created at once on one all-in-one host
// with real guests, timed until every domain runs and until every sandbox is READY, then
// destroyed at once. "Every domain started" comes from libvirt's lifecycle events on a
// connection of the benchmark's own: the worker's view (each node BOOTING or READY) means
// the same, but reading it queues behind the builds for the worker's libvirt call slots
// (and would add to that queue). A sandbox that FAILS is counted and the others measured
// on. Also accounts where the machine's CPU went and probes the store's latency. The driver
// is one thread, plus the parallel create and destroy calls and the probe.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_cluster.h"
#include "bench/bench_support.h"
#include "bench/controller_bench.h"
#include "bench/host_probe.h"
#include "common/names.h"
#include "common/parallel.h"
#include "common/status_macros.h"

namespace labrack::bench {
namespace {

constexpr absl::Duration kProgressEvery = absl::Seconds(30);
constexpr absl::Duration kProbeEvery = absl::Seconds(1);

// One sandbox of the burst, times since the first create call.
struct Member {
  std::string id;
  std::vector<std::string> domains;
  absl::Duration accepted, started, ready, destroyed;
  bool is_started = false, is_ready = false;
  std::optional<std::string> failure;  // the controller's message when it FAILED
};

// Seconds to write 4 KiB to `path` and fsync it, as each store commit does.
double TimeFsync(const std::string& path) {
  absl::Time t = absl::Now();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0600);
  if (fd < 0) return 0;
  std::string block(4096, 'x');
  bool ok = pwrite(fd, block.data(), block.size(), 0) == static_cast<ssize_t>(block.size()) && fsync(fd) == 0;
  close(fd);
  return ok ? Seconds(absl::Now() - t) : 0;
}

// Every second, on a thread of its own, times the controller's GetSandbox of one sandbox
// (a read of the store, so it shows how long the writes of a burst hold the store's lock)
// and an fsync of a small file next to the store's database. Stops when destroyed.
class ControllerProbe {
 public:
  ControllerProbe(ControllerClient& client, std::string id, std::string fsync_path)
      : fsync_path_(std::move(fsync_path)), thread_([this, &client, id] { Run(client, id); }) {}
  ~ControllerProbe() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }
  std::vector<double> get_seconds() {
    absl::MutexLock lock(&mu_);
    return get_seconds_;
  }
  std::vector<double> fsync_seconds() {
    absl::MutexLock lock(&mu_);
    return fsync_seconds_;
  }

 private:
  void Run(ControllerClient& client, const std::string& id) {
    for (;;) {
      absl::Time t = absl::Now();
      client.Get(id).IgnoreError();
      double get = Seconds(absl::Now() - t);
      double fsync = TimeFsync(fsync_path_);
      absl::MutexLock lock(&mu_);
      get_seconds_.push_back(get);
      fsync_seconds_.push_back(fsync);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), kProbeEvery);
      if (stop_) return;
    }
  }

  const std::string fsync_path_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<double> get_seconds_ ABSL_GUARDED_BY(mu_);
  std::vector<double> fsync_seconds_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts once the rest is made
};

// CPU seconds used since the first create call, by whom.
struct CpuUse {
  MachineCpu machine;
  double self = 0, libvirtd = 0;
  std::vector<double> guests;  // one per qemu process of the burst
};

CpuUse ReadCpuUse(const std::string& libvirtd, const std::vector<Member>& members) {
  CpuUse u;
  u.machine = ReadMachineCpu();
  u.self = ProcessCpuSeconds("self");
  if (!libvirtd.empty()) u.libvirtd = ProcessCpuSeconds(libvirtd);
  std::vector<std::string> domains;
  for (const Member& m : members) domains.insert(domains.end(), m.domains.begin(), m.domains.end());
  for (const auto& [name, seconds] : QemuCpuSeconds(domains)) u.guests.push_back(seconds);
  return u;
}

absl::Status CreateAll(BenchCluster& cluster, const v1::Topology& topology, absl::Time t0,
                       std::vector<Member>& members) {
  return RunInParallel(static_cast<int>(members.size()), [&](int i) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Sandbox s, cluster.client().Create(cluster.topology()));
    members[i].accepted = absl::Now() - t0;
    members[i].id = s.sandbox_id();
    for (const v1::Node& n : topology.nodes()) members[i].domains.push_back(DomainName(s.sandbox_id(), n.name()));
    return absl::OkStatus();
  });
}

// The last of the member's domains to start, once all have.
std::optional<absl::Duration> AllStarted(DomainStarts& libvirt, const Member& m, absl::Time t0) {
  absl::Duration last = absl::ZeroDuration();
  for (const std::string& d : m.domains) {
    std::optional<absl::Time> at = libvirt.Started(d);
    if (!at) return std::nullopt;
    last = std::max(last, *at - t0);
  }
  return last;
}

// Looks once at every member; returns how many are READY or FAILED.
int Observe(BenchCluster& cluster, DomainStarts& libvirt, absl::Time t0, std::vector<Member>& members) {
  int done = 0;
  for (Member& m : members) {
    if (!m.failure) m.failure = cluster.events().Failure(m.id);
    if (auto at = cluster.events().Arrived(m.id, v1::SANDBOX_PHASE_READY); at && !m.is_ready) {
      m.is_ready = true;
      m.ready = *at - t0;
    }
    if (auto at = AllStarted(libvirt, m, t0); at && !m.is_started) {
      m.is_started = true;
      m.started = *at;
    }
    done += m.is_ready || m.failure;
  }
  return done;
}

absl::Status WaitAllReady(BenchCluster& cluster, DomainStarts& libvirt, const BurstOptions& options,
                          absl::Time t0, std::vector<Member>& members) {
  absl::Time deadline = t0 + options.ready_timeout + absl::Seconds(60);
  absl::Time next_report = t0 + kProgressEvery;
  for (;;) {
    int done = Observe(cluster, libvirt, t0, members);
    if (done == static_cast<int>(members.size())) return absl::OkStatus();
    RETURN_IF_ERROR(CheckInterrupted());
    if (absl::Now() > deadline) return absl::DeadlineExceededError("not all sandboxes READY in time");
    if (absl::Now() >= next_report) {
      int started = 0, ready = 0;
      for (const Member& m : members) {
        started += m.is_started;
        ready += m.is_ready;
      }
      std::printf("  t=%3.0f s: %2d/%zu with every domain started, %2d READY, %2d FAILED\n",
                  Seconds(absl::Now() - t0), started, members.size(), ready, done - ready);
      std::fflush(stdout);
      next_report += kProgressEvery;
    }
    absl::SleepFor(options.poll);
  }
}

absl::Status DestroyAll(BenchCluster& cluster, const BurstOptions& options, absl::Time t0,
                        std::vector<Member>& members) {
  RETURN_IF_ERROR(RunInParallel(static_cast<int>(members.size()), [&](int i) {
    return cluster.client().Destroy(members[i].id).status();
  }));
  for (Member& m : members) {
    ASSIGN_OR_RETURN(absl::Time at, cluster.events().WaitForPhase(m.id, v1::SANDBOX_PHASE_DESTROYED,
                                                                   t0 + options.ready_timeout));
    m.destroyed = at - t0;
  }
  return absl::OkStatus();
}

// Over the members for which `counts` holds.
std::string Spread(const std::vector<Member>& members, absl::Duration Member::*field,
                   bool Member::*counts = nullptr) {
  std::vector<double> v;
  for (const Member& m : members) {
    if (counts == nullptr || m.*counts) v.push_back(Seconds(m.*field));
  }
  Summary s = Summarize(v);
  return absl::StrFormat("%d: first %.1f s, median %.1f s, last %.1f s", s.n, s.min, s.p50, s.max);
}

void PrintCpu(const CpuUse& before, const CpuUse& after) {
  double busy = after.machine.busy - before.machine.busy;
  double total = after.machine.total - before.machine.total;
  double self = after.self - before.self, libvirtd = after.libvirtd - before.libvirtd;
  Summary g = Summarize(after.guests);
  double guests = g.mean * g.n;
  std::printf("  CPU from the first create until all READY or FAILED: %.0f of %.0f core-seconds busy (%.0f%%):\n",
              busy, total, 100 * busy / total);
  std::printf("    %d qemu processes: %.0f (per guest mean %.1f, min %.1f, max %.1f)\n", g.n, guests,
              g.mean, g.min, g.max);
  std::printf("    this process (controller, worker, benchmark): %.0f; libvirtd: %.0f; rest: %.0f\n",
              self, libvirtd, busy - guests - self - libvirtd);
}

void PrintReport(BenchCluster& cluster, const std::vector<Member>& members, int guests,
                 ControllerProbe& probe) {
  std::printf("\n%zu sandboxes (%d guests), times from the first create call:\n", members.size(), guests);
  std::printf("  create calls answered (SCHEDULED), %s\n", Spread(members, &Member::accepted).c_str());
  std::printf("  every domain started (libvirt's STARTED event for each), %s\n",
              Spread(members, &Member::started, &Member::is_started).c_str());
  std::printf("  READY (event on WatchEvents), %s\n", Spread(members, &Member::ready, &Member::is_ready).c_str());
  std::printf("  meanwhile, every %.0f s: controller GetSandbox %s\n", Seconds(kProbeEvery),
              FormatSummary(Summarize(probe.get_seconds()), "s", 3).c_str());
  std::printf("                       fsync of 4 KiB next to the store %s\n",
              FormatSummary(Summarize(probe.fsync_seconds()), "s", 3).c_str());
  int lost = 0;
  for (const Member& m : members) {
    lost += cluster.events().Arrived(m.id, v1::SANDBOX_PHASE_LOST).has_value();
    if (m.failure) std::printf("  FAILED: %s: %s\n", m.id.c_str(), m.failure->c_str());
  }
  std::printf("  host unreachable events: %d; sandboxes that went LOST on the way: %d\n",
              cluster.events().Count(v1::EVENT_KIND_HOST_UNREACHABLE), lost);
}

}  // namespace

absl::Status RunBurst(const BurstOptions& options) {
  ASSIGN_OR_RETURN(Inputs inputs, LoadInputs(options.common));
  ASSIGN_OR_RETURN(std::unique_ptr<TempDir> dir, TempDir::Make());
  const std::string host_id = BenchHostId();
  ASSIGN_OR_RETURN(std::unique_ptr<HostSweep> sweep, HostSweep::Start(options.common.libvirt_uri, host_id));
  ASSIGN_OR_RETURN(std::unique_ptr<DomainStarts> libvirt, DomainStarts::Connect(options.common.libvirt_uri));
  ClusterOptions c;
  c.state_dir = dir->path() + "/controller";
  c.host_id = host_id;
  c.libvirt_uri = options.common.libvirt_uri;
  c.ready_timeout = options.ready_timeout;
  c.cpu_overcommit = options.cpu_overcommit;
  c.disk_overcommit = options.disk_overcommit;
  ASSIGN_OR_RETURN(std::unique_ptr<BenchCluster> cluster, BenchCluster::Start(c, inputs, nullptr));
  std::printf("part 2: %d %s sandboxes created at once on all-in-one host %s (%s, domain type qemu),\n"
              "cpu overcommit %.0f, disk overcommit %.1f, ready timeout %s\n",
              options.sandboxes, inputs.topology.name().c_str(), host_id.c_str(),
              options.common.libvirt_uri.c_str(), options.cpu_overcommit, options.disk_overcommit,
              absl::FormatDuration(options.ready_timeout).c_str());
  std::fflush(stdout);

  std::vector<Member> members(options.sandboxes);
  const std::string libvirtd = FindProcess("libvirtd");
  CpuUse before = ReadCpuUse(libvirtd, {});
  absl::Time t0 = absl::Now();
  RETURN_IF_ERROR(CreateAll(*cluster, inputs.topology, t0, members));
  auto probe = std::make_unique<ControllerProbe>(cluster->client(), members[0].id, dir->path() + "/fsync-probe");
  RETURN_IF_ERROR(WaitAllReady(*cluster, *libvirt, options, t0, members));
  CpuUse after = ReadCpuUse(libvirtd, members);  // before the destroy ends the guests
  PrintReport(*cluster, members, options.sandboxes * inputs.topology.nodes_size(), *probe);
  probe.reset();
  PrintCpu(before, after);

  absl::Time t1 = absl::Now();
  RETURN_IF_ERROR(DestroyAll(*cluster, options, t1, members));
  std::printf("  destroy all at once, until DESTROYED, %s\n", Spread(members, &Member::destroyed).c_str());
  std::printf("  libvirt objects of %s left after the destroy: %zu\n", host_id.c_str(), sweep->Leftovers().size());
  return absl::OkStatus();
}

}  // namespace labrack::bench
