// Part 4 of the controller benchmark: handing out sandboxes from a warm pool.
//   a. The store transaction alone: AssignFromPool on a SQLite file holding `store_members`
//      READY idle sandboxes, one call after another (what an assignment costs at its core:
//      the read of the oldest READY member, two row writes, an event, one commit).
//   b. Through the controller with real guests: a pool of `size` sandboxes of a one-node
//      topology (the first node of --topology) on the all-in-one worker; the time to fill
//      it, then `size` AssignFromPool calls from one client, one after another, each timed
//      from call to answer while the pool refills behind them, then the time to refill.
// Everything it made goes when it ends (the cluster destroys the assigned sandboxes).
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_cluster.h"
#include "bench/bench_support.h"
#include "bench/controller_bench.h"
#include "common/status_macros.h"
#include "controller/store/sqlite_store.h"

namespace labrack::bench {
namespace {

constexpr char kPool[] = "bench";

// The first node of `topology` alone, on the networks it uses.
v1::Topology OneNode(const v1::Topology& topology) {
  v1::Topology one;
  one.set_name("pool-one");
  one.set_description(absl::StrCat("the first node of ", topology.name()));
  *one.add_nodes() = topology.nodes(0);
  for (const v1::Network& n : topology.networks()) {
    for (const v1::Nic& nic : topology.nodes(0).nics()) {
      if (nic.network() == n.name()) {
        *one.add_networks() = n;
        break;
      }
    }
  }
  return one;
}

absl::Status RunStoreAssign(int members, const std::string& dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<controller::SqliteStore> store,
                   controller::SqliteStore::Open(dir + "/pool-bench.db"));
  v1::Inventory inventory;
  inventory.mutable_total()->set_vcpus(1 << 16);
  inventory.mutable_total()->set_memory_mib(1 << 30);
  inventory.mutable_total()->set_disk_mib(1 << 30);
  RETURN_IF_ERROR(store->UpsertHost("h1", "127.0.0.1:1", inventory, absl::Now()));
  v1::Pool pool;
  pool.set_name(kPool);
  pool.set_topology("pool-one");
  pool.set_topology_version(1);
  pool.set_spec("s");
  pool.set_size(members);
  RETURN_IF_ERROR(store->CreatePool(pool).status());
  v1::Topology topology;
  topology.set_name("pool-one");
  for (int i = 0; i < members; ++i) {
    RETURN_IF_ERROR(CheckInterrupted());
    v1::Sandbox s;
    s.set_sandbox_id(absl::StrFormat("%08x-0000-4000-8000-000000000000", i));
    s.set_topology("pool-one");
    s.set_topology_version(1);
    s.set_phase(v1::SANDBOX_PHASE_READY);
    s.set_pool(kPool);
    s.set_pool_spec("s");
    s.mutable_reserved()->set_vcpus(1);
    s.mutable_reserved()->set_memory_mib(128);
    s.add_nodes()->set_name("server");
    RETURN_IF_ERROR(store->CreateSandbox(s, topology, [](const std::vector<controller::HostRecord>&)
                                                          -> absl::StatusOr<std::string> { return "h1"; })
                        .status());
  }
  std::vector<double> ms;
  for (int i = 0; i < members; ++i) {
    RETURN_IF_ERROR(CheckInterrupted());
    controller::PoolAssignment a{kPool, absl::StrCat("c", i), {}, absl::StrCat("r", i), ""};
    absl::Time start = absl::Now();
    RETURN_IF_ERROR(store->AssignFromPool(a).status());
    ms.push_back(Ms(absl::Now() - start));
  }
  std::printf("  a. store transaction, %d READY members, one after another:\n     %s\n", members,
              FormatSummary(Summarize(ms), "ms", 2).c_str());
  std::fflush(stdout);
  return absl::OkStatus();
}

// Polls the pool until `ready` of its sandboxes are; the time that took.
absl::StatusOr<absl::Duration> WaitReady(ControllerClient& client, uint32_t ready,
                                         absl::Duration timeout) {
  const absl::Time start = absl::Now();
  for (;;) {
    RETURN_IF_ERROR(CheckInterrupted());
    ASSIGN_OR_RETURN(v1::Pool p, client.GetPool(kPool));
    if (p.ready() >= ready) return absl::Now() - start;
    if (absl::Now() - start > timeout) {
      return absl::DeadlineExceededError(
          absl::StrCat("pool has ", p.ready(), " of ", ready, " ready after ",
                       absl::FormatDuration(timeout), ": ", p.message()));
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

absl::Status RunLibvirtAssign(const PoolAssignOptions& options, const Inputs& inputs,
                              const std::string& dir) {
  const std::string host_id = BenchHostId();
  // Declared before the cluster, so it sweeps after the cluster went: the storage pool too.
  ASSIGN_OR_RETURN(std::unique_ptr<HostSweep> sweep,
                   HostSweep::Start(options.common.libvirt_uri, host_id));
  ClusterOptions c;
  c.state_dir = dir + "/controller";
  c.host_id = host_id;
  c.libvirt_uri = options.common.libvirt_uri;
  c.cpu_overcommit = options.cpu_overcommit;
  c.ready_timeout = options.ready_timeout;
  ASSIGN_OR_RETURN(std::unique_ptr<BenchCluster> cluster, BenchCluster::Start(c, inputs, nullptr));
  ControllerClient& client = cluster->client();
  const v1::Topology one = OneNode(inputs.topology);
  RETURN_IF_ERROR(client.ApplyTopology(one));
  const uint32_t size = static_cast<uint32_t>(options.size);
  RETURN_IF_ERROR(client.CreatePool(kPool, one.name(), size).status());
  ASSIGN_OR_RETURN(absl::Duration filled, WaitReady(client, size, options.ready_timeout));
  std::printf("  b. pool of %u one-node sandboxes (node '%s', %d MiB) on the all-in-one worker:\n"
              "     filled (every sandbox READY) in %.1f s\n",
              size, one.nodes(0).name().c_str(), static_cast<int>(one.nodes(0).memory_mib()),
              Seconds(filled));
  std::fflush(stdout);
  std::vector<double> ms;
  const absl::Time first = absl::Now();
  for (uint32_t i = 0; i < size; ++i) {
    RETURN_IF_ERROR(CheckInterrupted());
    absl::Time start = absl::Now();
    RETURN_IF_ERROR(client
                        .AssignFromPool(kPool, absl::StrFormat("c%03d", i),
                                        absl::StrFormat("bench-assign-%d", i))
                        .status());
    ms.push_back(Ms(absl::Now() - start));
  }
  std::printf("     %u AssignFromPool calls over gRPC, one after another, while it refills:\n"
              "     %s\n",
              size, FormatSummary(Summarize(ms), "ms", 2).c_str());
  std::fflush(stdout);
  RETURN_IF_ERROR(WaitReady(client, size, options.ready_timeout).status());
  std::printf("     refilled to %u READY %.1f s after the first assignment\n", size,
              Seconds(absl::Now() - first));
  std::fflush(stdout);
  RETURN_IF_ERROR(client.DeletePool(kPool).status());
  for (absl::Time deadline = absl::Now() + absl::Minutes(5); absl::Now() < deadline;) {
    RETURN_IF_ERROR(CheckInterrupted());
    if (absl::IsNotFound(client.GetPool(kPool).status())) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(500));
  }
  return absl::DeadlineExceededError("the deleted pool was not removed within 5 minutes");
}

}  // namespace

absl::Status RunPoolAssign(const PoolAssignOptions& options) {
  ASSIGN_OR_RETURN(Inputs inputs, LoadInputs(options.common));
  ASSIGN_OR_RETURN(std::unique_ptr<TempDir> dir, TempDir::Make());
  std::printf("part 4: assignment from a warm pool\n");
  std::fflush(stdout);
  RETURN_IF_ERROR(RunStoreAssign(options.store_members, dir->path()));
  return RunLibvirtAssign(options, inputs, dir->path());
}

}  // namespace labrack::bench
