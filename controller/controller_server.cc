#include "controller/controller_server.h"

#include <signal.h>

#include <filesystem>
#include <fstream>

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/store/sqlite_store.h"
#include "controller/workers/grpc_worker_client.h"
#include "spdlog/spdlog.h"

namespace labrack::controller {
namespace {

// Requests carry at most a topology or an image chunk (1 MiB).
constexpr int kMaxMessageBytes = 8 << 20;

std::string LoopbackTarget(int port) { return absl::StrCat("127.0.0.1:", port); }

// Written whole under a temporary name and renamed, so a reader never sees half of it.
absl::Status WritePortFile(const std::string& path, int port) {
  std::string tmp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) return absl::InternalError(absl::StrCat("--port-file: cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("--port-file: rename to ", path, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ControllerServer>> ControllerServer::Start(
    ControllerOptions options) {
  if (options.state_dir.empty()) return absl::InvalidArgumentError("--state-dir: required");
  if (options.all_in_one && options.tls.enabled()) {
    return absl::InvalidArgumentError(
        "--all-in-one: not with TLS yet (its worker is served in plain text on loopback); run "
        "labrack-worker with a certificate of its own instead");
  }
  // Before anything is written: a bad TLS flag or a plain-text --listen off loopback.
  ASSIGN_OR_RETURN(std::optional<TlsMaterial> tls, LoadTls(options.tls, /*need_cert=*/true));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> server_credentials,
                   ServerCredentials(tls, ClientCerts::kVerifyIfPresented, options.listen,
                                     options.tls.insecure));
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", options.state_dir, ": ", ec.message()));
  options.config.policy.heartbeat_timeout = options.config.host_timeout;
  if (options.config.evidence_dir.empty()) {
    options.config.evidence_dir = absl::StrCat(options.state_dir, "/evidence");
  }

  std::unique_ptr<ControllerServer> c(new ControllerServer());
  c->options_ = std::move(options);
  const ControllerConfig* config = &c->options_.config;
  ASSIGN_OR_RETURN(c->store_, SqliteStore::Open(absl::StrCat(c->options_.state_dir, "/controller.db")));
  c->access_ = std::make_unique<AccessControl>(c->store_.get(), config->clock);
  ASSIGN_OR_RETURN(bool bootstrapped, c->access_->Bootstrap(c->admin_token_path()));
  if (bootstrapped) {
    spdlog::info("first start: wrote an admin token to {} (readable by this user only)",
                 c->admin_token_path());
  }
  ASSIGN_OR_RETURN(c->images_, worker::ImageCache::Open(absl::StrCat(c->options_.state_dir, "/images")));
  c->images_->SetMaxImportBytes(config->max_image_bytes);
  WorkerClientOptions worker_client;
  worker_client.credentials = ChannelCredentials(tls);
  c->workers_ = std::make_unique<GrpcWorkerDirectory>(worker_client);
  c->hosts_ = std::make_unique<HostRegistry>(c->store_.get(), config);
  c->topologies_ = std::make_unique<TopologyCatalog>(c->store_.get(), c->images_.get(), config);
  c->distributor_ = std::make_unique<ImageDistributor>(c->images_.get());
  c->reconciler_ = std::make_unique<Reconciler>(c->store_.get(), c->hosts_.get(), c->workers_.get(),
                                                c->distributor_.get(), config);
  Reconciler* reconciler = c->reconciler_.get();
  c->sandboxes_ = std::make_unique<SandboxApi>(c->store_.get(), c->topologies_.get(), config,
                                               [reconciler](const std::string&) { reconciler->Wake(); });
  c->sessions_ = std::make_unique<SessionApi>(c->store_.get(), c->topologies_.get(), config,
                                              [reconciler] { reconciler->Wake(); });
  c->pools_ = std::make_unique<PoolApi>(c->store_.get(), c->topologies_.get(), config,
                                        [reconciler] { reconciler->Wake(); });
  c->pool_driver_ = std::make_unique<PoolDriver>(c->store_.get(), c->topologies_.get(),
                                                 c->sandboxes_.get());
  reconciler->SetPoolDriver(c->pool_driver_.get());
  c->captures_ = std::make_unique<CaptureApi>(c->store_.get(), c->images_.get(), c->workers_.get(),
                                              c->sandboxes_.get());
  ServiceParts parts;
  parts.store = c->store_.get();
  parts.access = c->access_.get();
  parts.hosts = c->hosts_.get();
  parts.images = c->images_.get();
  parts.topologies = c->topologies_.get();
  parts.sandboxes = c->sandboxes_.get();
  parts.sessions = c->sessions_.get();
  parts.pools = c->pools_.get();
  parts.captures = c->captures_.get();
  parts.workers = c->workers_.get();
  parts.on_host_registered = [reconciler] { reconciler->Wake(); };
  parts.workers_need_certificates = tls.has_value();
  parts.trainer_max_sandboxes = config->trainer_max_sandboxes;
  c->service_ = std::make_unique<ControllerService>(std::move(parts));
  c->access_service_ = std::make_unique<AccessService>(c->access_.get());

  // Reflection in both versions: v1alpha from grpc++_reflection, v1 of our own.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  c->reflection_v1_ = std::make_unique<ReflectionV1Service>(std::vector<std::string>{
      v1::LabController::service_full_name(), v1::LabAccess::service_full_name(),
      "grpc.reflection.v1alpha.ServerReflection",
      grpc::reflection::v1::ServerReflection::service_full_name()});
  grpc::ServerBuilder builder;
  builder.AddListeningPort(c->options_.listen, server_credentials, &c->port_);
  builder.RegisterService(c->service_.get());
  builder.RegisterService(c->access_service_.get());
  builder.RegisterService(c->reflection_v1_.get());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  c->server_ = builder.BuildAndStart();
  if (!c->server_ || c->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("--listen ", c->options_.listen, ": cannot listen there"));
  }
  if (!c->options_.port_file.empty()) RETURN_IF_ERROR(WritePortFile(c->options_.port_file, c->port_));
  c->reconciler_->Start();
  spdlog::info("labrack-controller serving on port {} with state in {}", c->port_,
               c->options_.state_dir);
  if (c->options_.all_in_one) RETURN_IF_ERROR(c->StartEmbeddedWorker());
  return c;
}

absl::Status ControllerServer::StartEmbeddedWorker() {
  worker::WorkerOptions w = options_.worker;
  if (w.state_dir.empty()) w.state_dir = absl::StrCat(options_.state_dir, "/worker");
  w.controller = LoopbackTarget(port_);
  absl::StatusOr<std::unique_ptr<worker::WorkerServer>> started = worker::WorkerServer::Start(w);
  if (!started.ok()) {
    return absl::Status(started.status().code(),
                        absl::StrCat("embedded worker: ", started.status().message()));
  }
  worker_ = *std::move(started);
  return absl::OkStatus();
}

void ControllerServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (worker_) worker_->Shutdown();
  if (reconciler_) reconciler_->Stop();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

ControllerServer::~ControllerServer() { Shutdown(); }

std::string ControllerServer::admin_token_path() const {
  return absl::StrCat(options_.state_dir, "/admin.token");
}

int RunController(ControllerOptions options) {
  // The all-in-one controller runs a worker, whose libvirt client would end the process
  // with SIGPIPE when libvirtd dies during a call; the write fails with EPIPE instead.
  signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // threads started below inherit this
  absl::StatusOr<std::unique_ptr<ControllerServer>> server = ControllerServer::Start(std::move(options));
  if (!server.ok()) {
    spdlog::error("{}", server.status().ToString());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: shutting down", sig);
  (*server)->Shutdown();
  return 0;
}

}  // namespace labrack::controller
