#include "worker/worker_server.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"
#include "worker/domain_type_probe.h"
#include "worker/hypervisor/libvirt_hypervisor.h"

namespace labrack::worker {

std::string DefaultHostId() {
  char buf[256] = {};
  gethostname(buf, sizeof(buf) - 1);
  std::string id;
  for (char c : std::string(buf)) {
    c = absl::ascii_tolower(c);
    if (absl::ascii_isalnum(c) || c == '-') id.push_back(c);
    if (id.size() == 24) break;
  }
  while (!id.empty() && (id.back() == '-')) id.pop_back();
  if (id.empty() || !absl::ascii_islower(id.front())) id = absl::StrCat("h", id).substr(0, 24);
  return id;
}

absl::StatusOr<std::unique_ptr<WorkerServer>> WorkerServer::Start(const WorkerOptions& options) {
  if (options.state_dir.empty()) return absl::InvalidArgumentError("--state-dir: required");
  ASSIGN_OR_RETURN(ProbeResult type, ResolveDomainType(options.domain_type));
  spdlog::info("domain type {}: {}", DomainTypeName(type.type), type.reason);
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", options.state_dir, ": ", ec.message()));

  std::unique_ptr<WorkerServer> w(new WorkerServer());
  ASSIGN_OR_RETURN(w->hypervisor_, LibvirtHypervisor::Connect(options.libvirt_uri));
  ASSIGN_OR_RETURN(w->images_, ImageCache::Open(absl::StrCat(options.state_dir, "/images")));
  WorkerConfig config;
  config.host_id = options.host_id.empty() ? DefaultHostId() : options.host_id;
  config.state_dir = options.state_dir;
  config.domain_type = type.type;
  config.ready_timeout = options.ready_timeout;
  ASSIGN_OR_RETURN(w->sandboxes_,
                   SandboxManager::Create(w->hypervisor_.get(), w->images_.get(), config));
  w->service_ = std::make_unique<WorkerService>(w->sandboxes_.get(), w->images_.get(),
                                                w->hypervisor_.get());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &w->port_);
  builder.RegisterService(w->service_.get());
  builder.SetMaxReceiveMessageSize(8 << 20);
  w->server_ = builder.BuildAndStart();
  if (!w->server_ || w->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("--listen ", options.listen, ": cannot listen there"));
  }
  spdlog::info("labrack-worker {} serving on port {} with {} sandboxes recovered", config.host_id,
               w->port_, w->sandboxes_->ListSandboxes().size());
  return w;
}

void WorkerServer::Shutdown() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

WorkerServer::~WorkerServer() { Shutdown(); }

int RunWorker(const WorkerOptions& options) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // threads started below inherit this
  absl::StatusOr<std::unique_ptr<WorkerServer>> worker = WorkerServer::Start(options);
  if (!worker.ok()) {
    spdlog::error("{}", worker.status().ToString());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: stopping (sandboxes stay; a restarted worker finds them)", sig);
  (*worker)->Shutdown();
  return 0;
}

}  // namespace labrack::worker
