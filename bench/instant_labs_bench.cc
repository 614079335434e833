// Instant labs against a plain virsh script: K smoke sandboxes (3 nodes, 2 networks, 4
// blank disks on the storage node) on real qemu:///system guests through the worker's
// SandboxManager, cold (every node boots) or from templates (one sandbox made them first),
// everything in parallel. Times provision -> every node ready, reset -> ready, destroy, and
// the host memory the K sandboxes take. bench/run-instant.sh runs it beside
// bench/plain-virsh.sh and writes both to bench/out/; docs/performance.md summarises them.
// Not a test: it asserts nothing about time. Usage:
//   labrack_instant_labs_bench --mode cold|templates --k K [--image-dir images/out/tiny]
#include <fstream>
#include <filesystem>
#include <iostream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/parallel.h"
#include "common/topology/manifest_yaml.h"
#include "common/topology/topology_yaml.h"
#include "spdlog/spdlog.h"
#include "worker/hypervisor/libvirt_hypervisor.h"
#include "worker/sandbox/sandbox_manager.h"

namespace labrack::worker {
namespace {

// Memory the host has handed out, from /proc/meminfo (MemTotal - MemAvailable), in MiB.
double HostMemoryUsedMib() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t value = 0, total = 0, available = 0;
  std::string unit;
  while (in >> key >> value >> unit) {
    if (key == "MemTotal:") total = value;
    if (key == "MemAvailable:") available = value;
  }
  return (total - available) / 1024.0;
}

std::string SandboxId(int i) { return absl::StrFormat("be%06d-0000-4000-8000-000000000000", i); }

int Run(const std::string& mode, int k, const std::string& image_dir) {
  auto manifest = LoadImageManifestFile(image_dir + "/manifest.yaml");
  auto topology = LoadTopologyFile("topologies/smoke.yaml");
  if (!manifest.ok() || !topology.ok()) {
    std::cerr << "run from the repository root after images/build.sh tiny\n";
    return 2;
  }
  char tmpl[] = "/tmp/labrack-instant-XXXXXX";
  const std::string state_dir = mkdtemp(tmpl);
  auto hv = LibvirtHypervisor::Connect("qemu:///system");
  auto images = ImageCache::Open(state_dir + "/images");
  if (!hv.ok() || !images.ok() || !(*images)->ImportFromFolder(*manifest, image_dir).ok()) {
    std::cerr << "libvirt or the image cache failed\n";
    return 1;
  }
  WorkerConfig config;
  config.host_id = "bench";
  config.state_dir = state_dir;
  config.ready_timeout = absl::Minutes(5);
  config.domain_type = DomainTypeChoice::Fixed(DomainType::kQemu, "bench");
  if (mode == "templates") config.template_dir = state_dir + "/templates";
  auto manager = SandboxManager::Create(hv->get(), images->get(), config);
  if (!manager.ok()) {
    std::cerr << manager.status() << "\n";
    return 1;
  }
  SandboxManager& m = **manager;
  auto spec = [&](int i) {
    v1::SandboxSpec s;
    s.set_sandbox_id(SandboxId(i));
    s.set_generation(1);
    *s.mutable_topology() = *topology;
    return s;
  };
  absl::Status failed;
  if (mode == "templates") {  // one sandbox makes the templates, then goes
    absl::Time t = absl::Now();
    failed.Update(m.CreateSandbox(spec(999), true).status());
    failed.Update(m.DestroySandbox(SandboxId(999)).status());
    std::cout << absl::StrFormat("warm (boot, save, restore one sandbox): %.2f s\n",
                                 absl::ToDoubleSeconds(absl::Now() - t));
  }
  auto ready = [](const absl::StatusOr<v1::SandboxStatus>& st) {
    return st.ok() && st->phase() == v1::SANDBOX_PHASE_READY ? absl::OkStatus()
           : st.ok() ? absl::InternalError(st->message())
                     : st.status();
  };
  const double memory_before = HostMemoryUsedMib();
  absl::Time t = absl::Now();
  failed.Update(RunInParallel(k, [&](int i) { return ready(m.CreateSandbox(spec(i), true)); }));
  const double provision = absl::ToDoubleSeconds(absl::Now() - t);
  const double memory = HostMemoryUsedMib() - memory_before;
  t = absl::Now();
  failed.Update(RunInParallel(k, [&](int i) { return ready(m.ResetSandbox(SandboxId(i), 2, true)); }));
  const double reset = absl::ToDoubleSeconds(absl::Now() - t);
  t = absl::Now();
  failed.Update(RunInParallel(k, [&](int i) { return m.DestroySandbox(SandboxId(i)).status(); }));
  const double destroy = absl::ToDoubleSeconds(absl::Now() - t);
  std::cout << absl::StrFormat(
      "labrack %s K=%d: provision->ready %.2f s, reset->ready %.2f s, destroy %.2f s, "
      "host memory %.0f MiB%s\n",
      mode, k, provision, reset, destroy, memory,
      failed.ok() ? "" : absl::StrCat(" (FAILED: ", failed.message(), ")"));
  for (int i = 0; i < k; ++i) m.DestroySandbox(SandboxId(i)).IgnoreError();
  manager->reset();
  (*hv)->RemovePool("labrack-bench").IgnoreError();
  std::filesystem::remove_all(state_dir);
  return failed.ok() ? 0 : 1;
}

}  // namespace
}  // namespace labrack::worker

int main(int argc, char** argv) {
  std::string mode = "templates";
  int k = 1;
  std::string image_dir = "images/out/tiny";
  CLI::App app{"labrack instant-labs benchmark"};
  app.add_option("--mode", mode)->check(CLI::IsMember({"cold", "templates"}));
  app.add_option("--k", k)->check(CLI::Range(1, 50));
  app.add_option("--image-dir", image_dir);
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  return labrack::worker::Run(mode, k, image_dir);
}
