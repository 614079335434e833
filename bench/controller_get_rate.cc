// Part 3 of the controller benchmark: how many GetSandbox calls per second one controller
// answers on this machine, for one READY sandbox, with 1, 2, 4 and 8 client threads, each
// over a connection of its own (as separate clients would be). The controller runs in this
// process with a FakeHypervisor worker, so client and server share the CPUs.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/bench_cluster.h"
#include "bench/bench_support.h"
#include "bench/controller_bench.h"
#include "common/status_macros.h"
#include "common/bearer_channel.h"
#include "worker/hypervisor/fake_hypervisor.h"

namespace labrack::bench {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(10);

// A stub over a connection of its own, not shared with other threads' channels.
std::unique_ptr<v1::LabController::Stub> OwnStub(const std::string& target,
                                                 const std::string& token) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::LabController::NewStub(
      CreateBearerChannel(target, grpc::InsecureChannelCredentials(), token, args));
}

grpc::Status GetOnce(v1::LabController::Stub& stub, const v1::GetSandboxRequest& req) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  v1::Sandbox resp;
  return stub.GetSandbox(&ctx, req, &resp);
}

void BM_GetSandbox(benchmark::State& state, const std::string& target, const std::string& token,
                   const std::string& id) {
  std::unique_ptr<v1::LabController::Stub> stub = OwnStub(target, token);
  v1::GetSandboxRequest req;
  req.set_sandbox_id(id);
  if (grpc::Status s = GetOnce(*stub, req); !s.ok()) {  // connects outside the timed loop
    state.SkipWithError(s.error_message().c_str());
    return;
  }
  for (auto _ : state) {
    if (grpc::Status s = GetOnce(*stub, req); !s.ok()) {
      state.SkipWithError(s.error_message().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

absl::Status RunBenchmarks(const GetRateOptions& options, const std::string& target,
                           const std::string& token, const std::string& id) {
  benchmark::RegisterBenchmark("BM_GetSandbox", BM_GetSandbox, target, token, id)
      ->Threads(1)->Threads(2)->Threads(4)->Threads(8)
      ->UseRealTime()
      ->MinTime(options.min_time_s)
      ->Unit(benchmark::kMicrosecond);
  std::vector<std::string> args = {"labrack_controller_bench"};
  args.insert(args.end(), options.benchmark_args.begin(), options.benchmark_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  if (benchmark::ReportUnrecognizedArguments(argc, argv.data())) {
    return absl::InvalidArgumentError("get-rate: unknown benchmark flags");
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return absl::OkStatus();
}

}  // namespace

absl::Status RunGetRate(const GetRateOptions& options) {
  ASSIGN_OR_RETURN(Inputs inputs, LoadInputs(options.common));
  ASSIGN_OR_RETURN(std::unique_ptr<TempDir> dir, TempDir::Make());
  ClusterOptions c;
  c.state_dir = dir->path() + "/controller";
  c.host_id = "fake-host";
  ASSIGN_OR_RETURN(std::unique_ptr<BenchCluster> cluster,
                   BenchCluster::Start(c, inputs, std::make_unique<worker::FakeHypervisor>("LABRACK-READY")));
  ASSIGN_OR_RETURN(v1::Sandbox s, cluster->client().Create(cluster->topology()));
  RETURN_IF_ERROR(cluster->events()
                      .WaitForPhase(s.sandbox_id(), v1::SANDBOX_PHASE_READY, absl::Now() + absl::Seconds(30))
                      .status());
  std::printf("part 3: GetSandbox of one READY %s sandbox (%d nodes), controller in this process\n"
              "with a FakeHypervisor worker; one connection per client thread\n",
              cluster->topology().c_str(), inputs.topology.nodes_size());
  std::fflush(stdout);
  return RunBenchmarks(options, absl::StrCat("127.0.0.1:", cluster->port()),
                       cluster->admin_token(), s.sandbox_id());
}

}  // namespace labrack::bench
