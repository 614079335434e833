#include "bench/bench_support.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "common/topology/manifest_yaml.h"
#include "common/topology/topology_yaml.h"
#include "spdlog/spdlog.h"
#include "worker/images/image_cache.h"

namespace labrack::bench {
namespace fs = std::filesystem;
namespace {

std::atomic<bool> interrupted{false};
absl::Mutex calls_mu;
// Calls to cancel on interruption; never freed, as signal handling lasts the whole process.
std::set<grpc::ClientContext*>* const calls = new std::set<grpc::ClientContext*>();

void WaitForSignals(sigset_t signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::warn("signal {}: stopping and removing what this run made (again to exit at once)", sig);
  {
    absl::MutexLock lock(&calls_mu);
    interrupted = true;
    for (grpc::ClientContext* ctx : *calls) ctx->TryCancel();
  }
  sigwait(&signals, &sig);
  _exit(128 + sig);
}

}  // namespace

void HandleSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    signal(sig, SIG_DFL);  // a script may have started us with SIGINT ignored
    sigaddset(&signals, sig);
  }
  signal(SIGPIPE, SIG_IGN);  // a closed stdout must not end the run before it cleans up
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread(WaitForSignals, signals).detach();
}

bool Interrupted() { return interrupted; }

absl::Status CheckInterrupted() {
  return Interrupted() ? absl::CancelledError("interrupted") : absl::OkStatus();
}

CancelOnInterrupt::CancelOnInterrupt(grpc::ClientContext* ctx) : ctx_(ctx) {
  absl::MutexLock lock(&calls_mu);
  if (interrupted) ctx->TryCancel();  // gRPC cancels it as soon as it starts
  calls->insert(ctx);
}

CancelOnInterrupt::~CancelOnInterrupt() {
  absl::MutexLock lock(&calls_mu);
  calls->erase(ctx_);
}

// ---- statistics

Summary Summarize(std::vector<double> values) {
  Summary s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  auto rank = [&](double p) {
    size_t i = static_cast<size_t>(std::ceil(p * values.size()));
    return values[std::clamp<size_t>(i, 1, values.size()) - 1];
  };
  s.n = static_cast<int>(values.size());
  for (double v : values) s.mean += v;
  s.mean /= s.n;
  s.p50 = rank(0.50);
  s.p95 = rank(0.95);
  s.p99 = rank(0.99);
  s.min = values.front();
  s.max = values.back();
  return s;
}

std::string FormatSummary(const Summary& s, const std::string& unit, int digits) {
  return absl::StrFormat("mean %.*f  p50 %.*f  p95 %.*f  p99 %.*f  min %.*f  max %.*f %s", digits,
                         s.mean, digits, s.p50, digits, s.p95, digits, s.p99, digits, s.min, digits,
                         s.max, unit);
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }
double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

// ---- resources

absl::StatusOr<std::unique_ptr<TempDir>> TempDir::Make() {
  std::string tmpl = absl::StrCat("/tmp/labrack-ctlbench-", getpid(), "-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", tmpl, ": ", strerror(errno)));
  }
  chmod(tmpl.c_str(), 0755);  // qemu runs as its own user and reads the volumes below
  return std::unique_ptr<TempDir>(new TempDir(tmpl));
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  if (ec) spdlog::warn("could not remove {}: {}", path_, ec.message());
}

std::string BenchHostId() { return absl::StrCat("bench-", getpid()); }

absl::StatusOr<std::unique_ptr<HostSweep>> HostSweep::Start(const std::string& uri,
                                                           const std::string& host_id) {
  ASSIGN_OR_RETURN(std::unique_ptr<worker::LibvirtHypervisor> hv,
                   worker::LibvirtHypervisor::Connect(uri));
  std::unique_ptr<HostSweep> sweep(new HostSweep(std::move(hv), host_id));
  sweep->Sweep();
  return sweep;
}

HostSweep::~HostSweep() {
  Sweep();
  std::vector<std::string> left = Leftovers();
  if (left.empty()) {
    std::printf("libvirt: no domain, network, volume or pool of host %s left\n", host_id_.c_str());
  } else {
    spdlog::error("host {}: {} objects could not be removed, e.g. {}", host_id_, left.size(), left[0]);
  }
}

std::vector<std::string> HostSweep::Leftovers() {
  std::vector<std::string> left;
  if (auto domains = hv_->ListDomains(host_id_); domains.ok()) {
    for (const worker::DomainInfo& d : *domains) left.push_back("domain " + d.name);
  }
  if (auto networks = hv_->ListNetworks(host_id_); networks.ok()) {
    for (const worker::NetworkInfo& n : *networks) left.push_back("network " + n.name);
  }
  if (auto volumes = hv_->ListVolumes(pool()); volumes.ok()) {
    for (const worker::VolumeInfo& v : *volumes) left.push_back("volume " + v.name);
  }
  if (auto filters = hv_->ListPortFilters(); filters.ok()) {
    for (const worker::PortFilterInfo& f : *filters) {
      if (f.host_id == host_id_) left.push_back("port filter lr-" + f.sandbox8);
    }
  }
  return left;
}

void HostSweep::Sweep() {
  std::vector<std::string> left = Leftovers();
  for (const std::string& what : left) spdlog::warn("removing leftover {}", what);
  if (auto domains = hv_->ListDomains(host_id_); domains.ok()) {
    for (const worker::DomainInfo& d : *domains) hv_->DestroyDomain(d.name).IgnoreError();
  }
  if (auto networks = hv_->ListNetworks(host_id_); networks.ok()) {
    for (const worker::NetworkInfo& n : *networks) hv_->DestroyNetwork(n.name).IgnoreError();
  }
  if (auto volumes = hv_->ListVolumes(pool()); volumes.ok()) {
    for (const worker::VolumeInfo& v : *volumes) hv_->DeleteVolume(pool(), v.name).IgnoreError();
  }
  if (auto filters = hv_->ListPortFilters(); filters.ok()) {
    for (const worker::PortFilterInfo& f : *filters) {
      if (f.host_id == host_id_) hv_->RemovePortFilter(f.sandbox_id).IgnoreError();
    }
  }
  absl::Status removed = hv_->RemovePool(pool());
  if (!removed.ok()) spdlog::warn("pool {}: {}", pool(), removed.ToString());
}

// ---- inputs

absl::StatusOr<Inputs> LoadInputs(const CommonOptions& options) {
  Inputs in;
  in.image_dir = options.image_dir;
  ASSIGN_OR_RETURN(in.manifest, LoadImageManifestFile(options.image_dir + "/manifest.yaml"));
  ASSIGN_OR_RETURN(in.topology, LoadTopologyFile(options.topology));
  for (const v1::Node& node : in.topology.nodes()) {
    if (node.image() != in.manifest.name()) {
      return absl::InvalidArgumentError(absl::StrCat(
          options.topology, ": node ", node.name(), " uses image ", node.image(),
          "; the benchmark imports only ", in.manifest.name(), " from ", options.image_dir));
    }
  }
  return in;
}

absl::Status PreloadImage(const std::string& worker_state_dir, const Inputs& inputs) {
  ASSIGN_OR_RETURN(std::unique_ptr<worker::ImageCache> cache,
                   worker::ImageCache::Open(worker_state_dir + "/images"));
  return cache->ImportFromFolder(inputs.manifest, inputs.image_dir);
}

// ---- timing the hypervisor

void TimingHypervisor::Reset() {
  absl::MutexLock lock(&mu_);
  marks_ = Marks();
}

TimingHypervisor::Marks TimingHypervisor::marks() {
  absl::MutexLock lock(&mu_);
  return marks_;
}

void TimingHypervisor::MarkCreate() {
  absl::MutexLock lock(&mu_);
  if (marks_.first_create == absl::InfinitePast()) marks_.first_create = absl::Now();
}

absl::Status TimingHypervisor::CreateNetwork(const worker::NetworkSpec& spec) {
  MarkCreate();
  return ForwardingHypervisor::CreateNetwork(spec);
}

absl::StatusOr<std::string> TimingHypervisor::CreateVolume(const worker::VolumeSpec& spec) {
  MarkCreate();
  return ForwardingHypervisor::CreateVolume(spec);
}

absl::Status TimingHypervisor::DefineDomain(const worker::DomainSpec& spec) {
  MarkCreate();
  return ForwardingHypervisor::DefineDomain(spec);
}

absl::Status TimingHypervisor::StartDomain(const std::string& name) {
  absl::Status s = ForwardingHypervisor::StartDomain(name);
  absl::MutexLock lock(&mu_);
  marks_.last_start = absl::Now();
  return s;
}

// ---- cleanup after a killed run

absl::Status RunCleanup(const CommonOptions& options, int pid) {
  std::string prefix = absl::StrCat("labrack-ctlbench-", pid, "-");
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator("/tmp", ec)) {
    if (e.path().filename().string().rfind(prefix, 0) != 0) continue;
    spdlog::warn("removing {}", e.path().string());
    fs::remove_all(e.path(), ec);
  }
  // Made and destroyed at once: it sweeps when made and when it goes.
  for (const std::string& host_id : {absl::StrCat("bench-", pid), absl::StrCat("bench-", pid, "-w")}) {
    RETURN_IF_ERROR(HostSweep::Start(options.libvirt_uri, host_id).status());
  }
  return absl::OkStatus();
}

}  // namespace labrack::bench
