// A test fixture for the controller in-process with real parts except the hypervisor:
// SQLite in a temp folder, the LabController service on loopback, and a real WorkerServer
// (over a FakeHypervisor that prints readiness markers) that registers and heartbeats
// through gRPC, with the fake tiny image imported and topology "mini" applied.
#ifndef LABRACK_CONTROLLER_CONTROLLER_TEST_FIXTURE_H_
#define LABRACK_CONTROLLER_CONTROLLER_TEST_FIXTURE_H_

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/bearer_channel.h"
#include "common/grpc_util.h"
#include "common/status_macros.h"
#include "common/topology/topology_yaml.h"
#include "controller/controller_server.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"
#include "worker/hypervisor/fake_hypervisor.h"
#include "worker/hypervisor/forwarding_hypervisor.h"
#include "worker/worker_server.h"

namespace labrack::controller {

inline constexpr char kTopology[] = R"(
name: mini
networks:
  - name: lan
    cidr: 10.10.1.0/24
nodes:
  - name: server
    role: server
    image: tiny
    vcpus: 1
    memory_mib: 128
    nics: [{network: lan}]
  - name: storage
    role: storage
    image: tiny
    vcpus: 1
    memory_mib: 128
    nics: [{network: lan}]
    disks: [{name: data0, size_mib: 64}]
)";

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = labrack::testing::MakeTempDir("labrack-controller");
    manifest_ = labrack::testing::WriteFakeImage(root_ + "/image", "tiny");
    ControllerOptions options;
    options.listen = "127.0.0.1:0";
    options.state_dir = root_ + "/controller";
    options.config.heartbeat_interval = absl::Milliseconds(100);
    options.config.host_timeout = absl::Seconds(1);
    options.config.reconcile_interval = absl::Milliseconds(100);
    options.config.ready_timeout = absl::Seconds(20);
    Configure(options);
    auto c = ControllerServer::Start(options);
    ASSERT_OK(c);
    controller_ = *std::move(c);
    admin_token_ = ReadAdminToken();
    ASSERT_FALSE(admin_token_.empty()) << "no admin token in " << controller_->admin_token_path();
    stub_ = v1::LabController::NewStub(ChannelWithToken(admin_token_));
    ASSERT_NO_FATAL_FAILURE(StartWorker());
    ASSERT_OK(Import(manifest_, root_ + "/image"));
    auto topology = ParseTopologyYaml(kTopology, "mini.yaml");
    ASSERT_OK(topology);
    v1::ApplyTopologyRequest apply;
    *apply.mutable_topology() = *topology;
    v1::TopologyRecord record;
    ASSERT_OK(Call(&v1::LabController::Stub::ApplyTopology, apply, &record));
  }

  void TearDown() override {
    worker_.reset();
    controller_.reset();
    std::filesystem::remove_all(root_);
  }

  // The worker's libvirt state outlives its process, as it would on a real host.
  void StartWorker() {
    worker::WorkerOptions options;
    options.state_dir = root_ + "/worker";
    options.host_id = "host-a";
    options.domain_type = "qemu";
    options.controller = absl::StrCat("127.0.0.1:", controller_->port());
    ConfigureWorker(options);
    auto w = worker::WorkerServer::Start(options, NewWorkerHypervisor());
    ASSERT_OK(w);
    worker_ = *std::move(w);
    ASSERT_TRUE(Eventually([&] {
      v1::ListHostsResponse hosts;
      return Call(&v1::LabController::Stub::ListHosts, v1::ListHostsRequest(), &hosts).ok() &&
             hosts.hosts_size() == 1 && hosts.hosts(0).health() == v1::HOST_HEALTH_HEALTHY &&
             hosts.hosts(0).address() == worker_->advertised_address();
    })) << "the worker did not register";
  }

  // The token the controller's first start wrote.
  std::string ReadAdminToken() {
    std::ifstream in(controller_->admin_token_path());
    std::string token;
    std::getline(in, token);
    return token;
  }

  // A channel to the controller whose calls carry `token` (none when empty).
  std::shared_ptr<grpc::Channel> ChannelWithToken(const std::string& token) {
    return CreateBearerChannel(absl::StrCat("127.0.0.1:", controller_->port()),
                               ClientCredentials(), token);
  }

  // Hooks for tests that run the parts another way (e.g. over TLS).
  virtual void Configure(ControllerOptions&) {}
  virtual void ConfigureWorker(worker::WorkerOptions&) {}
  virtual std::shared_ptr<grpc::ChannelCredentials> ClientCredentials() {
    return grpc::InsecureChannelCredentials();
  }

  // What the worker runs on: hv_, through a wrapper that tests may replace to watch calls.
  virtual std::unique_ptr<worker::Hypervisor> NewWorkerHypervisor() {
    return std::make_unique<worker::ForwardingHypervisor>(&hv_);
  }

  template <typename Req, typename Resp>
  absl::Status Call(grpc::Status (v1::LabController::Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                    const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return FromGrpc(((*stub_).*method)(&ctx, req, resp));
  }

  absl::Status Import(const v1::ImageManifest& manifest, const std::string& folder) {
    grpc::ClientContext ctx;
    v1::Image image;
    auto writer = stub_->ImportImage(&ctx, &image);
    v1::EnsureImageChunk first;
    *first.mutable_manifest() = manifest;
    writer->Write(first);
    for (const v1::ImageArtifact& a : manifest.artifacts()) {
      std::ifstream in(folder + "/" + a.file(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), {});
      v1::EnsureImageChunk chunk;
      chunk.mutable_chunk()->set_file(a.file());
      chunk.mutable_chunk()->set_data(bytes);
      writer->Write(chunk);
    }
    writer->WritesDone();
    return FromGrpc(writer->Finish());
  }

  absl::StatusOr<v1::Sandbox> Create(const std::string& topology, const std::string& request_id = "") {
    v1::CreateSandboxRequest req;
    req.set_topology(topology);
    req.set_candidate("cand-1");
    req.set_request_id(request_id);
    v1::Sandbox s;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::CreateSandbox, req, &s));
    return s;
  }

  v1::Sandbox Get(const std::string& id) {
    v1::GetSandboxRequest req;
    req.set_sandbox_id(id);
    v1::Sandbox s;
    EXPECT_OK(Call(&v1::LabController::Stub::GetSandbox, req, &s));
    return s;
  }

  // A session by id or name, as GetSession answers it.
  v1::Session GetSession(const std::string& session) {
    v1::GetSessionRequest req;
    req.set_session(session);
    v1::Session out;
    EXPECT_OK(Call(&v1::LabController::Stub::GetSession, req, &out));
    return out;
  }

  bool WaitPhase(const std::string& id, v1::SandboxPhase phase) {
    return Eventually([&] { return Get(id).phase() == phase; });
  }

  static bool Eventually(const std::function<bool()>& cond, absl::Duration timeout = absl::Seconds(20)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (cond()) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return cond();
  }

  std::vector<v1::Event> Events(const std::string& sandbox_id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
    v1::WatchEventsRequest req;
    req.set_sandbox_id(sandbox_id);
    auto reader = stub_->WatchEvents(&ctx, req);
    std::vector<v1::Event> events;
    for (v1::Event e; reader->Read(&e);) events.push_back(e);
    return events;
  }

  std::string root_;
  v1::ImageManifest manifest_;
  worker::FakeHypervisor hv_{"LABRACK-READY"};
  std::unique_ptr<ControllerServer> controller_;
  std::unique_ptr<worker::WorkerServer> worker_;
  std::string admin_token_;
  // Calls as the admin.
  std::unique_ptr<v1::LabController::Stub> stub_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CONTROLLER_TEST_FIXTURE_H_
