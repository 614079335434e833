// Provisioning benchmark: one smoke sandbox on real qemu:///system guests, timing create
// until every domain runs, until every guest is ready, reset (to running and to ready) and
// destroy, for base images of different sizes. Run by bench/run.sh; results go to
// docs/performance.md. Not a test: it asserts nothing about time.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/topology/manifest_yaml.h"
#include "common/topology/topology_yaml.h"
#include "spdlog/spdlog.h"
#include "worker/hypervisor/libvirt_hypervisor.h"
#include "worker/sandbox/sandbox_manager.h"

namespace labrack::worker {
namespace {

struct Bench {
  std::string state_dir;
  std::unique_ptr<LibvirtHypervisor> hv;
  std::unique_ptr<ImageCache> images;
  std::unique_ptr<SandboxManager> manager;
};

std::string Env(const char* name, const char* fallback) {
  const char* v = getenv(name);
  return v ? v : fallback;
}

// Reports a failure and tells the caller to stop the run.
bool Failed(const absl::Status& s, benchmark::State& state) {
  if (s.ok()) return false;
  state.SkipWithError(std::string(s.ToString()).c_str());
  return true;
}

// Polls until every node is ready; returns false on timeout.
bool WaitReady(SandboxManager& m, const std::string& id) {
  absl::Time deadline = absl::Now() + absl::Minutes(3);
  while (absl::Now() < deadline) {
    auto st = m.GetSandbox(id);
    if (st.ok() && st->phase() == v1::SANDBOX_PHASE_READY) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

double Since(absl::Time t) { return absl::ToDoubleSeconds(absl::Now() - t); }

void BM_SmokeSandbox(benchmark::State& state) {
  const int gib = state.range(0);
  std::string images_root = Env("LABRACK_BENCH_IMAGES", "bench/out/images");
  std::string image_dir = absl::StrCat(images_root, "/tiny-", gib, "g");
  auto manifest = LoadImageManifestFile(image_dir + "/manifest.yaml");
  if (!manifest.ok()) return state.SkipWithError("run bench/make-sized-image.sh first");
  auto topology = LoadTopologyFile("topologies/smoke.yaml");
  if (!topology.ok()) return state.SkipWithError("run from the repository root");
  for (v1::Node& n : *topology->mutable_nodes()) n.set_image(manifest->name());

  Bench b;
  char tmpl[] = "/tmp/labrack-bench-XXXXXX";
  b.state_dir = mkdtemp(tmpl);
  b.hv = *LibvirtHypervisor::Connect("qemu:///system");
  b.images = *ImageCache::Open(b.state_dir + "/images");
  if (Failed(b.images->ImportFromFolder(*manifest, image_dir), state)) return;
  b.hv->RemovePool("labrack-bench").IgnoreError();  // left by an interrupted run
  WorkerConfig config;
  config.host_id = "bench";
  config.state_dir = b.state_dir;
  config.ready_timeout = absl::Minutes(3);  // software emulation, WorkerConfig's default
  auto manager = SandboxManager::Create(b.hv.get(), b.images.get(), config);
  if (Failed(manager.status(), state)) return;
  b.manager = *std::move(manager);

  double running = 0, ready = 0, reset_running = 0, reset_ready = 0, destroy = 0;
  int n = 0;
  for (auto _ : state) {
    v1::SandboxSpec spec;
    spec.set_sandbox_id(absl::StrCat("be0c4", gib, "00", n, "-0000-4000-8000-000000000000"));
    spec.set_generation(1);
    *spec.mutable_topology() = *topology;

    absl::Time t0 = absl::Now();
    if (Failed(b.manager->CreateSandbox(spec, false).status(), state)) break;
    double t_running = Since(t0);
    if (!WaitReady(*b.manager, spec.sandbox_id())) {
      state.SkipWithError("guests not ready within 3 minutes");
      b.manager->DestroySandbox(spec.sandbox_id()).IgnoreError();
      break;
    }
    double t_ready = Since(t0);

    absl::Time t1 = absl::Now();
    if (Failed(b.manager->ResetSandbox(spec.sandbox_id(), 2, false).status(), state)) break;
    double t_reset_running = Since(t1);
    WaitReady(*b.manager, spec.sandbox_id());
    double t_reset_ready = Since(t1);

    absl::Time t2 = absl::Now();
    if (Failed(b.manager->DestroySandbox(spec.sandbox_id()).status(), state)) break;
    double t_destroy = Since(t2);

    state.SetIterationTime(t_running);
    running += t_running;
    ready += t_ready;
    reset_running += t_reset_running;
    reset_ready += t_reset_ready;
    destroy += t_destroy;
    ++n;
  }
  if (n == 0) n = 1;
  state.counters["create_to_running_s"] = running / n;
  state.counters["create_to_ready_s"] = ready / n;
  state.counters["reset_to_running_s"] = reset_running / n;
  state.counters["reset_to_ready_s"] = reset_ready / n;
  state.counters["destroy_s"] = destroy / n;
  state.counters["base_image_gib"] = gib;
  b.manager.reset();
  b.hv->RemovePool("labrack-bench").IgnoreError();
  std::filesystem::remove_all(b.state_dir);
}

BENCHMARK(BM_SmokeSandbox)->Arg(2)->Arg(8)->Iterations(5)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace labrack::worker

BENCHMARK_MAIN();
