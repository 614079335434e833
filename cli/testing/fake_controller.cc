// The fake uses gRPC's synchronous service API rather than the callback API our servers
// use: in a test double, a blocking handler per call is the clearest way to write the
// streaming RPCs, and the thread it costs does not matter. Sandboxes advance on threads of
// their own, one step every kStep, appending events as labrack-controller would.
#include "cli/testing/fake_controller.h"

#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "cli/testing/fake_sessions.h"
#include "common/sha256.h"

namespace labrack::cli::testing {

constexpr absl::Duration kStep = absl::Milliseconds(30);
constexpr absl::Duration kStreamPoll = absl::Milliseconds(20);

using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;

class FakeControllerService : public v1::LabController::Service {
 public:
  ~FakeControllerService() override { StopThreads(); }

  void StopThreads() {
    std::vector<std::thread> threads;
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
    sessions_.Stop();
  }

  // --- setup and inspection, used through FakeController ---
  mutable absl::Mutex mu_;
  std::map<std::string, int> calls_ ABSL_GUARDED_BY(mu_);
  // The "authorization" metadata of the last ListHosts ("" when absent).
  std::string last_authorization_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Host> hosts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::TopologyRecord> topologies_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Sandbox> sandboxes_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Image> images_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Event> events_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::CreateSandboxRequest> creates_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Topology> applied_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::ApplyTopologyRequest> apply_requests_ ABSL_GUARDED_BY(mu_);
  std::vector<ReceivedImage> received_ ABSL_GUARDED_BY(mu_);
  std::string console_input_ ABSL_GUARDED_BY(mu_);
  std::string fail_with_ ABSL_GUARDED_BY(mu_);
  bool console_ends_on_half_close_ ABSL_GUARDED_BY(mu_) = true;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  FakeSessions sessions_;  // thread-safe on its own

  // --- hosts ---
  Status ListHosts(ServerContext* ctx, const v1::ListHostsRequest*,
                   v1::ListHostsResponse* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["ListHosts"];
    auto auth = ctx->client_metadata().find("authorization");
    last_authorization_ = auth == ctx->client_metadata().end()
                              ? ""
                              : std::string(auth->second.data(), auth->second.size());
    for (const auto& [id, host] : hosts_) *resp->add_hosts() = host;
    return Status::OK;
  }

  Status DrainHost(ServerContext*, const v1::DrainHostRequest* req, v1::Host* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["DrainHost"];
    auto it = hosts_.find(req->host_id());
    if (it == hosts_.end()) {
      return Status(StatusCode::NOT_FOUND,
                    absl::StrCat("host '", req->host_id(), "' is not registered"));
    }
    it->second.set_drained(req->drain());
    *resp = it->second;
    return Status::OK;
  }

  // --- images ---
  Status ImportImage(ServerContext*, grpc::ServerReader<v1::EnsureImageChunk>* reader,
                     v1::Image* resp) override {
    {
      absl::MutexLock lock(&mu_);
      ++calls_["ImportImage"];
    }
    v1::EnsureImageChunk chunk;
    if (!reader->Read(&chunk) || !chunk.has_manifest()) {
      return Status(StatusCode::INVALID_ARGUMENT, "manifest: must come first");
    }
    ReceivedImage got;
    got.manifest = chunk.manifest();
    std::map<std::string, std::unique_ptr<Sha256>> hashes;
    while (reader->Read(&chunk)) {
      const std::string& file = chunk.chunk().file();
      auto& hash = hashes[file];
      if (!hash) hash = std::make_unique<Sha256>();
      hash->Update(chunk.chunk().data());
      got.bytes_by_file[file] += chunk.chunk().data().size();
    }
    for (auto& [file, hash] : hashes) got.sha256_by_file[file] = hash->HexDigest();
    absl::MutexLock lock(&mu_);
    for (const v1::ImageArtifact& a : got.manifest.artifacts()) {
      if (!hashes.contains(a.file()) && HoldsArtifact(a.sha256())) continue;
      if (got.sha256_by_file[a.file()] != a.sha256()) {
        return Status(StatusCode::DATA_LOSS, absl::StrCat("artifact ", a.file(),
                                                          ": sha256 of the bytes "
                                                          "received does not match the manifest"));
      }
    }
    received_.push_back(got);
    *resp->mutable_manifest() = got.manifest;
    images_.push_back(*resp);
    return Status::OK;
  }

  bool HoldsArtifact(const std::string& sha256) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const v1::Image& image : images_) {
      for (const v1::ImageArtifact& a : image.manifest().artifacts()) {
        if (a.sha256() == sha256) return true;
      }
    }
    return false;
  }

  Status ListImages(ServerContext*, const v1::ListImagesRequest*,
                    v1::ListImagesResponse* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["ListImages"];
    for (const v1::Image& image : images_) *resp->add_images() = image;
    return Status::OK;
  }

  // --- topologies ---
  Status ApplyTopology(ServerContext*, const v1::ApplyTopologyRequest* req,
                       v1::TopologyRecord* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["ApplyTopology"];
    applied_.push_back(req->topology());
    apply_requests_.push_back(*req);
    v1::TopologyRecord& record = topologies_[req->topology().name()];
    *record.mutable_topology() = req->topology();
    record.set_version(record.version() + 1);
    record.set_sha256(std::string(64, 'c'));
    *resp = record;
    return Status::OK;
  }

  Status ValidateTopology(ServerContext*, const v1::ValidateTopologyRequest* req,
                          v1::ValidateTopologyResponse* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["ValidateTopology"];
    for (const v1::Node& n : req->topology().nodes()) {
      resp->mutable_needs()->set_vcpus(resp->needs().vcpus() + n.vcpus());
      resp->mutable_needs()->set_memory_mib(resp->needs().memory_mib() + n.memory_mib());
    }
    for (const auto& [id, host] : hosts_) {
      if (!host.drained()) resp->add_fitting_hosts(id);
    }
    return Status::OK;
  }

  Status GetTopology(ServerContext*, const v1::GetTopologyRequest* req,
                     v1::TopologyRecord* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["GetTopology"];
    auto it = topologies_.find(req->name());
    if (it == topologies_.end()) {
      return Status(StatusCode::NOT_FOUND,
                    absl::StrCat("topology '", req->name(),
                                 "' not found; apply it first (ApplyTopology)"));
    }
    *resp = it->second;
    return Status::OK;
  }

  Status ListTopologies(ServerContext*, const v1::ListTopologiesRequest*,
                        v1::ListTopologiesResponse* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["ListTopologies"];
    for (const auto& [name, record] : topologies_) *resp->add_topologies() = record;
    return Status::OK;
  }

  // --- sandboxes ---
  Status CreateSandbox(ServerContext*, const v1::CreateSandboxRequest* req,
                       v1::Sandbox* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["CreateSandbox"];
    creates_.push_back(*req);
    for (const auto& [id, s] : sandboxes_) {
      if (!req->request_id().empty() && s.request_id() == req->request_id()) {
        *resp = s;
        return Status::OK;
      }
    }
    auto topology = topologies_.find(req->topology());
    if (topology == topologies_.end()) {
      return Status(StatusCode::NOT_FOUND,
                    absl::StrCat("topology '", req->topology(), "' not found"));
    }
    if (req->candidate().empty()) {
      return Status(StatusCode::INVALID_ARGUMENT, "candidate: must not be empty");
    }
    v1::Sandbox s;
    s.set_sandbox_id(absl::StrFormat("%08x-0000-4000-8000-%012x", 0x1a2b3c00 + next_id_, next_id_));
    ++next_id_;
    s.set_topology(req->topology());
    s.set_topology_version(topology->second.version());
    s.set_candidate(req->candidate());
    *s.mutable_labels() = req->labels();
    s.set_request_id(req->request_id());
    s.set_host_id(hosts_.empty() ? "host-1" : hosts_.begin()->first);
    s.set_generation(1);
    s.set_phase(v1::SANDBOX_PHASE_SCHEDULED);
    s.mutable_created_at()->set_seconds(absl::ToUnixSeconds(absl::Now()));
    for (const v1::Node& n : topology->second.topology().nodes()) {
      v1::NodeStatus* node = s.add_nodes();
      node->set_name(n.name());
      node->set_phase(v1::NODE_PHASE_BOOTING);
    }
    sandboxes_[s.sandbox_id()] = s;
    AddEvent(s, v1::EVENT_KIND_SANDBOX_PHASE);
    Provision(s.sandbox_id());
    *resp = s;
    return Status::OK;
  }

  Status GetSandbox(ServerContext*, const v1::GetSandboxRequest* req, v1::Sandbox* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["GetSandbox"];
    const v1::Sandbox* s = Find(req->sandbox_id());
    if (s == nullptr) return NoSandbox(req->sandbox_id());
    *resp = *s;
    return Status::OK;
  }

  Status ListSandboxes(ServerContext*, const v1::ListSandboxesRequest* req,
                       v1::ListSandboxesResponse* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["ListSandboxes"];
    for (const auto& [id, s] : sandboxes_) {
      if (Matches(s, *req)) *resp->add_sandboxes() = s;
    }
    return Status::OK;
  }

  Status ResetSandbox(ServerContext*, const v1::ResetSandboxRequest* req,
                      v1::Sandbox* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["ResetSandbox"];
    v1::Sandbox* s = Find(req->sandbox_id());
    if (s == nullptr) return NoSandbox(req->sandbox_id());
    if (s->phase() != v1::SANDBOX_PHASE_READY) {
      return Status(StatusCode::FAILED_PRECONDITION, "sandbox is not READY");
    }
    s->set_generation(s->generation() + 1);
    s->set_phase(v1::SANDBOX_PHASE_RESETTING);
    for (v1::NodeStatus& n : *s->mutable_nodes()) n.set_phase(v1::NODE_PHASE_BOOTING);
    AddEvent(*s, v1::EVENT_KIND_SANDBOX_PHASE);
    Provision(s->sandbox_id());
    *resp = *s;
    return Status::OK;
  }

  Status DestroySandbox(ServerContext*, const v1::DestroySandboxRequest* req,
                        v1::Sandbox* resp) override {
    absl::MutexLock lock(&mu_);
    ++calls_["DestroySandbox"];
    v1::Sandbox* s = Find(req->sandbox_id());
    if (s == nullptr) return NoSandbox(req->sandbox_id());
    if (s->phase() != v1::SANDBOX_PHASE_DESTROYED) {
      SetPhase(*s, v1::SANDBOX_PHASE_DESTROYING);
      std::string id = s->sandbox_id();
      Later(
          [this, id](v1::Sandbox& s) {
            SetPhase(s, v1::SANDBOX_PHASE_DESTROYED);
            return false;
          },
          id);
    }
    *resp = *s;
    return Status::OK;
  }

  // --- events and console ---
  Status WatchEvents(ServerContext* ctx, const v1::WatchEventsRequest* req,
                     grpc::ServerWriter<v1::Event>* writer) override {
    uint64_t after = req->after_seq();
    {
      absl::MutexLock lock(&mu_);
      ++calls_["WatchEvents"];
      if (!req->sandbox_id().empty() && Find(req->sandbox_id()) == nullptr) {
        return NoSandbox(req->sandbox_id());
      }
    }
    while (!ctx->IsCancelled()) {
      for (const v1::Event& e : EventsAfter(&after, req->sandbox_id())) {
        if (!writer->Write(e)) return Status::OK;
      }
      absl::MutexLock lock(&mu_);
      if (stopping_) return Status::OK;
    }
    return Status(StatusCode::CANCELLED, "the client went away");
  }

  Status AttachConsole(
      ServerContext* ctx,
      grpc::ServerReaderWriter<v1::ConsoleOutput, v1::ConsoleInput>* stream) override {
    v1::ConsoleInput in;
    if (!stream->Read(&in) || !in.has_open()) {
      return Status(StatusCode::INVALID_ARGUMENT,
                    "open: the first message must name the sandbox and the node");
    }
    bool ends_on_half_close;
    {
      absl::MutexLock lock(&mu_);
      ++calls_["AttachConsole"];
      const v1::Sandbox* s = Find(in.open().sandbox_id());
      if (s == nullptr) return NoSandbox(in.open().sandbox_id());
      bool known = false;
      for (const v1::NodeStatus& n : s->nodes()) known |= n.name() == in.open().node();
      if (!known) {
        return Status(StatusCode::NOT_FOUND,
                      absl::StrCat("sandbox ", s->sandbox_id(), " has no node ", in.open().node()));
      }
      ends_on_half_close = console_ends_on_half_close_;
    }
    if (!stream->Write(v1::ConsoleOutput())) return Status::OK;  // open, as the controller says
    while (stream->Read(&in)) {
      {
        absl::MutexLock lock(&mu_);
        console_input_ += in.data();
      }
      v1::ConsoleOutput out;
      out.set_data(in.data());
      if (!stream->Write(out)) return Status::OK;
    }
    if (ends_on_half_close) return Status::OK;
    while (!ctx->IsCancelled()) absl::SleepFor(kStreamPoll);
    return Status(StatusCode::CANCELLED, "the client went away");
  }

  // --- sessions, kept by FakeSessions ---
  Status CreateSession(ServerContext*, const v1::CreateSessionRequest* req,
                       v1::Session* resp) override {
    v1::TopologyRecord topology;
    bool known;
    std::string fail_with;
    {
      absl::MutexLock lock(&mu_);
      ++calls_["CreateSession"];
      auto it = topologies_.find(req->topology());
      known = it != topologies_.end();
      if (known) topology = it->second;
      fail_with = fail_with_;
    }
    return sessions_.Create(*req, known ? &topology : nullptr, fail_with, resp);
  }

  Status GetSession(ServerContext*, const v1::GetSessionRequest* req, v1::Session* resp) override {
    Count("GetSession");
    return sessions_.Get(req->session(), resp);
  }

  Status ListSessions(ServerContext*, const v1::ListSessionsRequest* req,
                      v1::ListSessionsResponse* resp) override {
    Count("ListSessions");
    return sessions_.List(*req, resp);
  }

  Status EndSession(ServerContext*, const v1::EndSessionRequest* req, v1::Session* resp) override {
    Count("EndSession");
    return sessions_.End(req->session(), resp);
  }

  Status WatchSession(ServerContext* ctx, const v1::GetSessionRequest* req,
                      grpc::ServerWriter<v1::Session>* writer) override {
    Count("WatchSession");
    return sessions_.Watch(ctx, req->session(), writer);
  }

 private:
  void Count(const std::string& method) {
    absl::MutexLock lock(&mu_);
    ++calls_[method];
  }

  v1::Sandbox* Find(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = sandboxes_.find(id);
    return it == sandboxes_.end() ? nullptr : &it->second;
  }

  static Status NoSandbox(const std::string& id) {
    return Status(StatusCode::NOT_FOUND, absl::StrCat("sandbox ", id, " not found"));
  }

  static bool Matches(const v1::Sandbox& s, const v1::ListSandboxesRequest& req) {
    if (req.phase() != v1::SANDBOX_PHASE_UNSPECIFIED && s.phase() != req.phase()) return false;
    if (!req.host_id().empty() && s.host_id() != req.host_id()) return false;
    if (!req.candidate().empty() && s.candidate() != req.candidate()) return false;
    if (!req.include_destroyed() && s.phase() == v1::SANDBOX_PHASE_DESTROYED) return false;
    for (const auto& [k, v] : req.labels()) {
      auto it = s.labels().find(k);
      if (it == s.labels().end() || it->second != v) return false;
    }
    return true;
  }

  void AddEvent(const v1::Sandbox& s, v1::EventKind kind) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::Event e;
    e.set_seq(events_.size() + 1);
    e.set_kind(kind);
    e.set_sandbox_id(s.sandbox_id());
    e.set_host_id(s.host_id());
    e.set_phase(s.phase());
    e.set_generation(s.generation());
    e.set_nodes_total(s.nodes_size());
    for (const v1::NodeStatus& n : s.nodes())
      e.set_nodes_ready(e.nodes_ready() + (n.phase() == v1::NODE_PHASE_READY));
    e.set_message(s.message());
    events_.push_back(e);
  }

  void SetPhase(v1::Sandbox& s, v1::SandboxPhase phase, const std::string& message = "")
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    s.set_phase(phase);
    s.set_message(message);
    AddEvent(s, v1::EVENT_KIND_SANDBOX_PHASE);
  }

  // The events of `sandbox_id` (all when empty) after index *after, waiting a little for
  // one; moves *after past every event looked at.
  std::vector<v1::Event> EventsAfter(uint64_t* after, const std::string& sandbox_id) {
    absl::MutexLock lock(&mu_);
    auto fresh = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return events_.size() > *after || stopping_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&fresh), kStreamPoll);
    std::vector<v1::Event> out;
    for (; *after < events_.size(); ++*after) {
      if (sandbox_id.empty() || events_[*after].sandbox_id() == sandbox_id)
        out.push_back(events_[*after]);
    }
    return out;
  }

  // Runs `step` on the sandbox every kStep on a thread of its own while it returns true.
  void Later(std::function<bool(v1::Sandbox&)> step, const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    threads_.emplace_back([this, step = std::move(step), id] {
      for (;;) {
        absl::SleepFor(kStep);
        absl::MutexLock lock(&mu_);
        v1::Sandbox* s = Find(id);
        if (stopping_ || s == nullptr || !step(*s)) return;
      }
    });
  }

  // PROVISIONING (or RESETTING), then one node READY per step, then READY; or FAILED after
  // the first node when FailProvisioningWith was called.
  void Provision(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::string fail_with = fail_with_;
    Later(
        [this, fail_with](v1::Sandbox& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          if (s.phase() == v1::SANDBOX_PHASE_SCHEDULED) {
            SetPhase(s, v1::SANDBOX_PHASE_PROVISIONING);
            return true;
          }
          int ready = 0;
          for (v1::NodeStatus& n : *s.mutable_nodes()) {
            if (n.phase() == v1::NODE_PHASE_READY) ++ready;
          }
          if (ready == 1 && !fail_with.empty()) {
            SetPhase(s, v1::SANDBOX_PHASE_FAILED, fail_with);
            return false;
          }
          if (ready == s.nodes_size()) {
            SetPhase(s, v1::SANDBOX_PHASE_READY);
            return false;
          }
          s.mutable_nodes(ready)->set_phase(v1::NODE_PHASE_READY);
          s.mutable_nodes(ready)->add_addresses(absl::StrCat("10.10.0.", ready + 1, "/24"));
          AddEvent(s, v1::EVENT_KIND_SANDBOX_PROGRESS);
          return true;
        },
        id);
  }
};

std::unique_ptr<FakeController> FakeController::Start() {
  std::unique_ptr<FakeController> fake(new FakeController());
  fake->service_ = std::make_unique<FakeControllerService>();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &fake->port_);
  builder.RegisterService(fake->service_.get());
  fake->server_ = builder.BuildAndStart();
  if (!fake->server_ || fake->port_ == 0) return nullptr;
  return fake;
}

FakeController::~FakeController() {
  service_->StopThreads();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

std::string FakeController::address() const { return absl::StrCat("127.0.0.1:", port_); }

void FakeController::AddHost(const v1::Host& host) {
  absl::MutexLock lock(&service_->mu_);
  service_->hosts_[host.host_id()] = host;
}

void FakeController::AddTopology(const v1::Topology& topology) {
  absl::MutexLock lock(&service_->mu_);
  v1::TopologyRecord& record = service_->topologies_[topology.name()];
  *record.mutable_topology() = topology;
  record.set_version(1);
  record.set_sha256(std::string(64, 'b'));
}

void FakeController::AddSandbox(const v1::Sandbox& sandbox) {
  absl::MutexLock lock(&service_->mu_);
  service_->sandboxes_[sandbox.sandbox_id()] = sandbox;
}

void FakeController::FailProvisioningWith(const std::string& message) {
  absl::MutexLock lock(&service_->mu_);
  service_->fail_with_ = message;
}

void FakeController::SetConsoleEndsOnHalfClose(bool ends) {
  absl::MutexLock lock(&service_->mu_);
  service_->console_ends_on_half_close_ = ends;
}

int FakeController::calls(const std::string& method) const {
  absl::MutexLock lock(&service_->mu_);
  auto it = service_->calls_.find(method);
  return it == service_->calls_.end() ? 0 : it->second;
}

std::string FakeController::last_authorization() const {
  absl::MutexLock lock(&service_->mu_);
  return service_->last_authorization_;
}

std::vector<v1::CreateSandboxRequest> FakeController::create_requests() const {
  absl::MutexLock lock(&service_->mu_);
  return service_->creates_;
}

std::vector<v1::CreateSessionRequest> FakeController::create_session_requests() const {
  return service_->sessions_.creates();
}

void FakeController::AddSession(const v1::Session& session) { service_->sessions_.Add(session); }

void FakeController::FailSessionCandidate(const std::string& candidate,
                                          const std::string& message) {
  service_->sessions_.FailCandidate(candidate, message);
}

void FakeController::FailNextSessionCreates(int n) { service_->sessions_.FailNextCreates(n); }

void FakeController::SetSessionLeftovers(const std::vector<std::string>& leftovers) {
  service_->sessions_.SetLeftovers(leftovers);
}

void FakeController::SetSessionStreamLimit(int snapshots) {
  service_->sessions_.SetStreamLimit(snapshots);
}

std::vector<v1::Topology> FakeController::applied_topologies() const {
  absl::MutexLock lock(&service_->mu_);
  return service_->applied_;
}

std::vector<v1::ApplyTopologyRequest> FakeController::apply_requests() const {
  absl::MutexLock lock(&service_->mu_);
  return service_->apply_requests_;
}

std::vector<ReceivedImage> FakeController::received_images() const {
  absl::MutexLock lock(&service_->mu_);
  return service_->received_;
}

std::string FakeController::console_input() const {
  absl::MutexLock lock(&service_->mu_);
  return service_->console_input_;
}

}  // namespace labrack::cli::testing
