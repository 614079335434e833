// labrack_controller_bench: the controller's benchmarks (see controller_bench.h and
// docs/performance.md). Parses flags and runs one part, or all of them in order; run it
// from the repository root, or through bench/run-controller.sh.
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "CLI/CLI.hpp"
#include "bench/bench_support.h"
#include "bench/controller_bench.h"
#include "spdlog/spdlog.h"

namespace {

using namespace labrack::bench;  // NOLINT: a main file of this folder's own library

void AddCommon(CLI::App& app, CommonOptions& common) {
  app.add_option("--image-dir", common.image_dir, "image folder with manifest.yaml")->capture_default_str();
  app.add_option("--topology", common.topology, "topology whose nodes use that image")->capture_default_str();
  app.add_option("--libvirt-uri", common.libvirt_uri, "for the real-guest parts")->capture_default_str();
}

void AddSeconds(CLI::App& app, const std::string& name, absl::Duration* d, const std::string& help) {
  app.add_option_function<double>(name, [d](double s) { *d = absl::Seconds(s); }, help)
      ->check(CLI::PositiveNumber)
      ->default_str(std::to_string(static_cast<int>(absl::ToDoubleSeconds(*d))));
}

// Other work on the machine slows every part: say how busy it was.
void PrintLoad() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  std::printf("[load average %s (1 min), %s (5 min) before this part]\n", one.c_str(), five.c_str());
  std::fflush(stdout);
}

int Report(const char* part, const absl::Status& status) {
  std::fflush(stdout);
  if (status.ok()) return 0;
  if (Interrupted()) {
    spdlog::error("{}: interrupted; what it made is removed", part);
    return 130;
  }
  spdlog::error("{}: {}", part, status.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  HandleSignals();
  CommonOptions common;
  FakeLatencyOptions fake;
  LibvirtLatencyOptions libvirt;
  BurstOptions burst;
  GetRateOptions rate;
  PoolAssignOptions pool;
  int cleanup_pid = 0;
  bool verbose = false;

  CLI::App app{"labrack_controller_bench: controller latency, burst and GetSandbox throughput"};
  AddCommon(app, common);
  app.add_flag("-v,--verbose", verbose, "log the controller's and workers' info lines");
  app.require_subcommand(1);
  CLI::App* fake_cmd = app.add_subcommand("fake-latency", "1a: create -> READY, FakeHypervisor workers");
  fake_cmd->add_option("--iterations", fake.iterations, "measured runs each way")->capture_default_str();
  fake_cmd->add_option("--warmup", fake.warmup, "runs before those, not counted")->capture_default_str();
  CLI::App* libvirt_cmd = app.add_subcommand("libvirt-latency", "1b: create -> READY, real guests");
  libvirt_cmd->add_option("--runs", libvirt.runs, "runs each way")->capture_default_str();
  AddSeconds(*libvirt_cmd, "--ready-timeout", &libvirt.ready_timeout, "seconds a guest may take to be ready");
  CLI::App* burst_cmd = app.add_subcommand("burst", "2: many sandboxes at once on one host, real guests");
  burst_cmd->add_option("--sandboxes", burst.sandboxes, "how many")->capture_default_str();
  burst_cmd->add_option("--cpu-overcommit", burst.cpu_overcommit, "vCPUs per host CPU")->capture_default_str();
  burst_cmd->add_option("--disk-overcommit", burst.disk_overcommit, "disk per MiB free")->capture_default_str();
  AddSeconds(*burst_cmd, "--ready-timeout", &burst.ready_timeout, "seconds a sandbox may take to be ready");
  CLI::App* rate_cmd = app.add_subcommand("get-rate", "3: GetSandbox calls per second (Google Benchmark)");
  rate_cmd->add_option("--min-time", rate.min_time_s, "seconds per thread count")->capture_default_str();
  rate_cmd->allow_extras();  // --benchmark_* flags
  CLI::App* pool_cmd = app.add_subcommand("pool-assign", "4: assignment from a warm pool, real guests");
  pool_cmd->add_option("--store-members", pool.store_members, "READY sandboxes for the store-only run")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  pool_cmd->add_option("--size", pool.size, "the pool's size, and how many are assigned")
      ->check(CLI::Range(1, 200))->capture_default_str();
  pool_cmd->add_option("--cpu-overcommit", pool.cpu_overcommit, "vCPUs per host CPU")->capture_default_str();
  AddSeconds(*pool_cmd, "--ready-timeout", &pool.ready_timeout, "seconds the pool may take to fill");
  app.add_subcommand("all", "1a, 3, 1b, 2 and 4 in that order, with their defaults");
  CLI::App* cleanup_cmd = app.add_subcommand("cleanup", "remove what a killed run left");
  cleanup_cmd->add_option("--pid", cleanup_pid, "process id of that run")->required();
  CLI11_PARSE(app, argc, argv);

  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::warn);
  fake.common = libvirt.common = burst.common = rate.common = pool.common = common;
  rate.benchmark_args = rate_cmd->remaining();
  const std::string part = app.get_subcommands().front()->get_name();
  if (part != "cleanup") PrintLoad();
  if (part == "fake-latency") return Report("fake-latency", RunFakeLatency(fake));
  if (part == "libvirt-latency") return Report("libvirt-latency", RunLibvirtLatency(libvirt));
  if (part == "burst") return Report("burst", RunBurst(burst));
  if (part == "get-rate") return Report("get-rate", RunGetRate(rate));
  if (part == "pool-assign") return Report("pool-assign", RunPoolAssign(pool));
  if (part == "cleanup") return Report("cleanup", RunCleanup(common, cleanup_pid));
  int code = 0;
  for (const auto& [name, run] : std::initializer_list<std::pair<const char*, std::function<absl::Status()>>>{
           {"fake-latency", [&] { return RunFakeLatency(fake); }},
           {"get-rate", [&] { return RunGetRate(rate); }},
           {"libvirt-latency", [&] { return RunLibvirtLatency(libvirt); }},
           {"burst", [&] { return RunBurst(burst); }},
           {"pool-assign", [&] { return RunPoolAssign(pool); }}}) {
    if (name != std::string("fake-latency")) PrintLoad();  // "all" printed it for the first
    code = Report(name, run());
    if (code != 0) break;
  }
  return code;
}
