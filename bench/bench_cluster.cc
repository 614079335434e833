#include "bench/bench_cluster.h"

#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/bearer_channel.h"
#include "common/grpc_util.h"
#include "common/parallel.h"
#include "common/status_macros.h"
#include "common/uuid.h"
#include "controller/core/sandbox_api.h"
#include "spdlog/spdlog.h"
#include "worker/client/image_upload.h"

namespace labrack::bench {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(30);
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kCleanupTimeout = absl::Minutes(3);
constexpr absl::Duration kCleanupPoll = absl::Milliseconds(250);

// One unary call with a deadline; cancelled when the run is interrupted if `interruptible`.
template <typename Stub, typename Req, typename Resp>
absl::Status Call(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                  const Req& req, Resp* resp, bool interruptible = true) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  std::optional<CancelOnInterrupt> cancel;
  if (interruptible) cancel.emplace(&ctx);
  return FromGrpc((stub.*method)(&ctx, req, resp));
}

// Streams one artifact's file in chunks; false when the stream broke.
bool SendArtifact(grpc::ClientWriter<v1::EnsureImageChunk>& writer, const std::string& folder,
                  const std::string& file) {
  std::ifstream in(folder + "/" + file, std::ios::binary);
  std::string buffer(worker::kImageChunkBytes, '\0');
  while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
    v1::EnsureImageChunk chunk;
    chunk.mutable_chunk()->set_file(file);
    chunk.mutable_chunk()->set_data(buffer.data(), in.gcount());
    if (!writer.Write(chunk)) return false;
  }
  return true;
}

}  // namespace

// ---- ControllerClient

ControllerClient::ControllerClient(int port, const std::string& token, bool interruptible)
    : stub_(v1::LabController::NewStub(CreateBearerChannel(
          absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(), token))),
      interruptible_(interruptible) {}

absl::Status ControllerClient::ImportImage(const Inputs& inputs) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(5)));
  CancelOnInterrupt cancel(&ctx);
  v1::Image image;
  std::unique_ptr<grpc::ClientWriter<v1::EnsureImageChunk>> writer = stub_->ImportImage(&ctx, &image);
  v1::EnsureImageChunk first;
  *first.mutable_manifest() = inputs.manifest;
  bool sent = writer->Write(first);
  for (const v1::ImageArtifact& a : inputs.manifest.artifacts()) {
    sent = sent && SendArtifact(*writer, inputs.image_dir, a.file());
  }
  writer->WritesDone();
  return FromGrpc(writer->Finish());
}

absl::Status ControllerClient::ApplyTopology(const v1::Topology& topology) {
  v1::ApplyTopologyRequest req;
  *req.mutable_topology() = topology;
  v1::TopologyRecord record;
  return Call(*stub_, &v1::LabController::Stub::ApplyTopology, req, &record, interruptible_);
}

absl::Status ControllerClient::WaitForHost(const std::string& host_id, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  do {
    RETURN_IF_ERROR(CheckInterrupted());
    v1::ListHostsResponse hosts;
    if (Call(*stub_, &v1::LabController::Stub::ListHosts, v1::ListHostsRequest(), &hosts).ok()) {
      for (const v1::Host& h : hosts.hosts()) {
        if (h.host_id() == host_id && h.health() == v1::HOST_HEALTH_HEALTHY) return absl::OkStatus();
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  return absl::DeadlineExceededError(absl::StrCat("host ", host_id, " did not register within ",
                                                  absl::FormatDuration(timeout)));
}

absl::StatusOr<v1::Sandbox> ControllerClient::Create(const std::string& topology) {
  v1::CreateSandboxRequest req;
  req.set_topology(topology);
  req.set_candidate("bench");
  v1::Sandbox s;
  RETURN_IF_ERROR(Call(*stub_, &v1::LabController::Stub::CreateSandbox, req, &s, interruptible_));
  return s;
}

absl::StatusOr<v1::Pool> ControllerClient::CreatePool(const std::string& name,
                                                     const std::string& topology, uint32_t size) {
  v1::CreatePoolRequest req;
  req.set_name(name);
  req.set_topology(topology);
  req.set_size(size);
  v1::Pool p;
  RETURN_IF_ERROR(Call(*stub_, &v1::LabController::Stub::CreatePool, req, &p, interruptible_));
  return p;
}

absl::StatusOr<v1::Pool> ControllerClient::GetPool(const std::string& name) {
  v1::GetPoolRequest req;
  req.set_name(name);
  v1::Pool p;
  RETURN_IF_ERROR(Call(*stub_, &v1::LabController::Stub::GetPool, req, &p, interruptible_));
  return p;
}

absl::StatusOr<v1::Pool> ControllerClient::DeletePool(const std::string& name) {
  v1::DeletePoolRequest req;
  req.set_name(name);
  v1::Pool p;
  RETURN_IF_ERROR(Call(*stub_, &v1::LabController::Stub::DeletePool, req, &p, interruptible_));
  return p;
}

absl::StatusOr<v1::Sandbox> ControllerClient::AssignFromPool(const std::string& pool,
                                                             const std::string& candidate,
                                                             const std::string& request_id) {
  v1::AssignFromPoolRequest req;
  req.set_pool(pool);
  req.set_candidate(candidate);
  req.set_request_id(request_id);
  v1::Sandbox s;
  RETURN_IF_ERROR(Call(*stub_, &v1::LabController::Stub::AssignFromPool, req, &s, interruptible_));
  return s;
}

absl::StatusOr<v1::Sandbox> ControllerClient::Get(const std::string& sandbox_id) {
  v1::GetSandboxRequest req;
  req.set_sandbox_id(sandbox_id);
  v1::Sandbox s;
  RETURN_IF_ERROR(Call(*stub_, &v1::LabController::Stub::GetSandbox, req, &s, interruptible_));
  return s;
}

absl::StatusOr<v1::Sandbox> ControllerClient::Destroy(const std::string& sandbox_id) {
  v1::DestroySandboxRequest req;
  req.set_sandbox_id(sandbox_id);
  v1::Sandbox s;
  RETURN_IF_ERROR(Call(*stub_, &v1::LabController::Stub::DestroySandbox, req, &s, interruptible_));
  return s;
}

absl::StatusOr<std::vector<v1::Sandbox>> ControllerClient::List() {
  v1::ListSandboxesResponse resp;
  RETURN_IF_ERROR(Call(*stub_, &v1::LabController::Stub::ListSandboxes, v1::ListSandboxesRequest(),
                       &resp, interruptible_));
  return std::vector<v1::Sandbox>(resp.sandboxes().begin(), resp.sandboxes().end());
}

// ---- BenchCluster

absl::StatusOr<std::unique_ptr<BenchCluster>> BenchCluster::Start(
    const ClusterOptions& options, const Inputs& inputs,
    std::unique_ptr<worker::Hypervisor> hypervisor) {
  RETURN_IF_ERROR(PreloadImage(options.state_dir + "/worker", inputs));
  controller::ControllerOptions c;
  c.listen = "127.0.0.1:0";
  c.state_dir = options.state_dir;
  c.config.ready_timeout = options.ready_timeout;
  c.config.policy.cpu_overcommit = options.cpu_overcommit;
  c.config.policy.disk_overcommit = options.disk_overcommit;
  c.all_in_one = hypervisor == nullptr;
  c.worker.libvirt_uri = options.libvirt_uri;
  c.worker.host_id = options.host_id;
  c.worker.domain_type = "qemu";
  c.worker.ready_timeout = options.ready_timeout;
  std::unique_ptr<BenchCluster> cluster(new BenchCluster());
  cluster->topology_ = inputs.topology.name();
  ASSIGN_OR_RETURN(cluster->controller_, controller::ControllerServer::Start(c));
  cluster->client_ = std::make_unique<ControllerClient>(cluster->controller_->port(),
                                                       cluster->admin_token());
  cluster->events_ = std::make_unique<EventWatcher>(cluster->client_->stub());
  if (hypervisor) RETURN_IF_ERROR(cluster->StartWorker(options, std::move(hypervisor)));
  RETURN_IF_ERROR(cluster->client_->WaitForHost(options.host_id, kStartTimeout));
  RETURN_IF_ERROR(cluster->client_->ImportImage(inputs));
  RETURN_IF_ERROR(cluster->client_->ApplyTopology(inputs.topology));
  return cluster;
}

absl::Status BenchCluster::StartWorker(const ClusterOptions& options,
                                       std::unique_ptr<worker::Hypervisor> hypervisor) {
  worker::WorkerOptions w;
  w.state_dir = options.state_dir + "/worker";
  w.host_id = options.host_id;
  w.domain_type = "qemu";
  w.ready_timeout = options.ready_timeout;
  w.controller = absl::StrCat("127.0.0.1:", controller_->port());
  ASSIGN_OR_RETURN(worker_, worker::WorkerServer::Start(w, std::move(hypervisor)));
  return absl::OkStatus();
}

worker::SandboxManager& BenchCluster::worker_sandboxes() {
  return worker_ ? worker_->sandboxes() : controller_->embedded_worker()->sandboxes();
}

absl::Status BenchCluster::DestroyAll(const std::vector<std::string>& ids, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  RETURN_IF_ERROR(RunInParallel(static_cast<int>(ids.size()),
                                [&](int i) { return client_->Destroy(ids[i]).status(); }));
  for (const std::string& id : ids) {
    RETURN_IF_ERROR(events_->WaitForPhase(id, v1::SANDBOX_PHASE_DESTROYED, deadline).status());
  }
  return absl::OkStatus();
}

std::string BenchCluster::admin_token() const {
  std::ifstream in(controller_->admin_token_path());
  std::string token;
  std::getline(in, token);
  return token;
}

// Not interruptible: this is what an interrupted run unwinds to.
BenchCluster::~BenchCluster() {
  if (controller_) {
    ControllerClient cleanup(controller_->port(), admin_token(), /*interruptible=*/false);
    absl::Time deadline = absl::Now() + kCleanupTimeout;
    for (;;) {
      absl::StatusOr<std::vector<v1::Sandbox>> list = cleanup.List();
      if (!list.ok()) {
        spdlog::warn("listing sandboxes to remove them: {}", list.status().ToString());
        if (absl::Now() > deadline) break;  // the host sweep removes what is left
        continue;
      }
      int left = 0;
      for (const v1::Sandbox& s : *list) {
        if (s.phase() == v1::SANDBOX_PHASE_DESTROYED) continue;
        ++left;
        cleanup.Destroy(s.sandbox_id()).IgnoreError();  // idempotent
      }
      if (left == 0) break;
      if (absl::Now() > deadline) {
        spdlog::warn("{} sandboxes not destroyed after {}", left, absl::FormatDuration(kCleanupTimeout));
        break;
      }
      absl::SleepFor(kCleanupPoll);
    }
  }
  events_.reset();
  worker_.reset();
  controller_.reset();
}

// ---- StandaloneWorker

v1::SandboxSpec NewSpec(const v1::Topology& topology) {
  v1::SandboxSpec spec;
  spec.set_sandbox_id(NewUuid4());
  spec.set_generation(1);
  *spec.mutable_topology() = topology;
  spec.set_candidate("bench");
  return spec;
}

absl::StatusOr<std::unique_ptr<StandaloneWorker>> StandaloneWorker::Start(
    const worker::WorkerOptions& options, const Inputs& inputs,
    std::unique_ptr<worker::Hypervisor> hypervisor) {
  RETURN_IF_ERROR(PreloadImage(options.state_dir, inputs));
  std::unique_ptr<StandaloneWorker> w(new StandaloneWorker());
  ASSIGN_OR_RETURN(w->server_, worker::WorkerServer::Start(options, std::move(hypervisor)));
  w->stub_ = v1::LabWorker::NewStub(grpc::CreateChannel(w->server_->advertised_address(),
                                                        grpc::InsecureChannelCredentials()));
  return w;
}

StandaloneWorker::~StandaloneWorker() {
  if (!server_) return;
  for (const v1::SandboxStatus& s : server_->sandboxes().ListSandboxes()) {
    absl::StatusOr<bool> gone = server_->sandboxes().DestroySandbox(s.sandbox_id());
    if (!gone.ok()) spdlog::warn("destroying {}: {}", s.sandbox_id(), gone.status().ToString());
  }
  server_.reset();
}

absl::StatusOr<v1::SandboxStatus> StandaloneWorker::CreateAndWait(const v1::SandboxSpec& spec,
                                                                  absl::Duration deadline) {
  v1::WorkerCreateSandboxRequest req;
  *req.mutable_spec() = spec;
  req.set_wait_ready(true);
  v1::SandboxStatus status;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  CancelOnInterrupt cancel(&ctx);
  RETURN_IF_ERROR(FromGrpc(stub_->CreateSandbox(&ctx, req, &status)));
  return status;
}

absl::StatusOr<bool> StandaloneWorker::Destroy(const std::string& sandbox_id) {
  v1::WorkerDestroySandboxRequest req;
  req.set_sandbox_id(sandbox_id);
  v1::WorkerDestroySandboxResponse resp;
  RETURN_IF_ERROR(Call(*stub_, &v1::LabWorker::Stub::DestroySandbox, req, &resp));
  return resp.existed();
}

}  // namespace labrack::bench
