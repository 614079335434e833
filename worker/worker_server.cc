#include "worker/worker_server.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"
#include "common/names.h"
#include "worker/domain_type_probe.h"
#include "worker/host_id_lock.h"
#include "worker/hypervisor/libvirt_hypervisor.h"
#include "worker/netem_probe.h"
#include "worker/service/inventory.h"

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

std::string DefaultAdvertiseAddress(const std::string& listen, int port) {
  std::string host = listen.substr(0, std::min(listen.rfind(':'), listen.size()));
  bool local = host.empty() || host == "0.0.0.0" || host == "[::]" || host == "localhost" ||
               host == "[::1]" || absl::StartsWith(host, "127.");
  return absl::StrCat(local ? "127.0.0.1" : host, ":", port);
}

namespace {

// The domain type: taken from the flag, or probed before the first build for libvirt
// (auto); auto means qemu for an injected hypervisor.
absl::StatusOr<std::shared_ptr<DomainTypeChoice>> DomainTypeFor(const std::string& flag,
                                                                bool injected) {
  if (injected && flag == "auto") {
    return DomainTypeChoice::Fixed(DomainType::kQemu, "injected hypervisor: auto means qemu");
  }
  return DomainTypeChoice::FromFlag(flag, [](const ProbeGuest& guest) { return ProbeKvm(guest); });
}

// libvirtd may be starting, or restarting, as the worker starts: it is waited for (up to
// a minute, then the error stands), as a running worker waits for it to come back.
absl::StatusOr<std::unique_ptr<LibvirtHypervisor>> ConnectWaitingForLibvirtd(const std::string& uri) {
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  for (bool said = false;; said = true) {
    absl::StatusOr<std::unique_ptr<LibvirtHypervisor>> hv = LibvirtHypervisor::Connect(uri);
    if (hv.ok() || !absl::IsUnavailable(hv.status()) || absl::Now() >= deadline) return hv;
    if (!said) spdlog::warn("{}; waiting for libvirtd", hv.status().ToString());
    absl::SleepFor(absl::Milliseconds(500));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerServer>> WorkerServer::Start(const WorkerOptions& options) {
  return Start(options, nullptr);
}

absl::StatusOr<std::unique_ptr<WorkerServer>> WorkerServer::Start(
    const WorkerOptions& options, std::unique_ptr<Hypervisor> hypervisor) {
  if (options.state_dir.empty()) return absl::InvalidArgumentError("--state-dir: required");
  // Before anything is touched: a bad TLS flag or a plain-text --listen off loopback.
  ASSIGN_OR_RETURN(std::optional<TlsMaterial> tls, LoadTls(options.tls, /*need_cert=*/true));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   ServerCredentials(tls, ClientCerts::kRequired, options.listen,
                                     options.tls.insecure));
  if (tls.has_value()) credentials->SetAuthMetadataProcessor(RequirePeerName(kControllerCertName));
  std::unique_ptr<WorkerServer> w(new WorkerServer());
  w->controller_credentials_ = ChannelCredentials(tls);
  RETURN_IF_ERROR(w->Build(options, std::move(hypervisor)));
  RETURN_IF_ERROR(w->Serve(options, credentials));
  spdlog::info("labrack-worker {} serving on port {} with {} sandboxes recovered",
               w->sandboxes_->config().host_id, w->port_, w->sandboxes_->ListSandboxes().size());
  if (!options.controller.empty()) w->StartAgent(options);
  return w;
}

// Everything but the server: hypervisor, image cache and sandbox manager (which recovers).
absl::Status WorkerServer::Build(const WorkerOptions& options,
                                 std::unique_ptr<Hypervisor> hypervisor) {
  ASSIGN_OR_RETURN(std::shared_ptr<DomainTypeChoice> type,
                   DomainTypeFor(options.domain_type, hypervisor != nullptr));
  spdlog::info("domain type {}: {}", DomainTypeName(type->type()), type->reason());
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", options.state_dir, ": ", ec.message()));
  const std::string host_id = options.host_id.empty() ? DefaultHostId() : options.host_id;
  RETURN_IF_ERROR(ValidateObjectName("--host-id", host_id));
  const bool hypervisor_injected = hypervisor != nullptr;
  // Two live workers of one host id on one libvirt would take each other's objects for
  // their own. libvirt's test driver keeps a world per connection: nothing to share there.
  if (!hypervisor_injected && !absl::StartsWith(options.libvirt_uri, "test:")) {
    ASSIGN_OR_RETURN(host_id_lock_, HostIdLock::Acquire(host_id, options.state_dir));
  }
  if (hypervisor) {
    hypervisor_ = std::move(hypervisor);
  } else {
    ASSIGN_OR_RETURN(hypervisor_, ConnectWaitingForLibvirtd(options.libvirt_uri));
  }
  ASSIGN_OR_RETURN(images_, ImageCache::Open(absl::StrCat(options.state_dir, "/images")));
  WorkerConfig config;
  config.host_id = host_id;
  config.state_dir = options.state_dir;
  config.domain_type = std::move(type);
  // An injected hypervisor (tests) builds nothing real: keep to the link-emulator path.
  NetemProbeResult netem = hypervisor_injected ? NetemProbeResult{false, "injected hypervisor"}
                                               : ProbeHostNetem();
  spdlog::info("netem {}: {}", netem.available ? "on the host" : "in a guest", netem.reason);
  config.host_has_netem = netem.available;
  config.ready_timeout = options.ready_timeout;
  config.boot_slots = options.boot_slots;
  config.template_dir = options.template_dir;
  config.template_budget_bytes = options.template_budget_mib << 20;
  ASSIGN_OR_RETURN(sandboxes_, SandboxManager::Create(hypervisor_.get(), images_.get(), config));
  service_ = std::make_unique<WorkerService>(sandboxes_.get(), images_.get(), hypervisor_.get());
  return absl::OkStatus();
}

absl::Status WorkerServer::Serve(const WorkerOptions& options,
                                 std::shared_ptr<grpc::ServerCredentials> credentials) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &port_);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(8 << 20);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("--listen ", options.listen, ": cannot listen there"));
  }
  advertise_ = options.advertise.empty() ? DefaultAdvertiseAddress(options.listen, port_)
                                         : options.advertise;
  return absl::OkStatus();
}

void WorkerServer::StartAgent(const WorkerOptions& options) {
  HostAgentOptions agent;
  agent.controller = options.controller;
  agent.host_id = sandboxes_->config().host_id;
  agent.address = advertise_;
  agent.credentials = controller_credentials_;
  agent_ = HostAgent::Start(std::move(agent), [this] {
    return BuildInventory(*hypervisor_, *sandboxes_, *images_);
  });
  spdlog::info("registering with controller {} as reachable at {}", options.controller,
               advertise_);
}

void WorkerServer::Shutdown() {
  if (agent_) agent_->Stop();
  if (service_) service_->CloseConsoles();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

WorkerServer::~WorkerServer() { Shutdown(); }

int RunWorker(const WorkerOptions& options) {
  // libvirt's client writes to its socket without MSG_NOSIGNAL: a libvirtd killed during a
  // call would end the worker with SIGPIPE. The write fails with EPIPE instead.
  signal(SIGPIPE, SIG_IGN);
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
