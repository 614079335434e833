// The controller in-process (controller_test_fixture.h): fast checks of the lifecycle,
// placement errors, orphans, lost hosts and image overrides; tests/e2e repeats the
// important ones with real processes and guests.
#include "controller/controller_server.h"

#include <grpcpp/generic/generic_stub.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "common/topology/topology_yaml.h"
#include "controller/controller_test_fixture.h"
#include "controller/workers/grpc_worker_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"
#include "worker/client/image_upload.h"
#include "worker/hypervisor/fake_hypervisor.h"
#include "worker/hypervisor/forwarding_hypervisor.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST_F(ControllerTest, CreatedSandboxBecomesReadyOnTheWorkerWithPhaseAndProgressEvents) {
  auto s = Create("mini");
  ASSERT_OK(s);
  EXPECT_EQ(s->phase(), v1::SANDBOX_PHASE_SCHEDULED);
  EXPECT_EQ(s->host_id(), "host-a");
  EXPECT_EQ(s->reserved().vcpus(), 2u);
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_READY)) << Get(s->sandbox_id()).message();
  v1::Sandbox ready = Get(s->sandbox_id());
  ASSERT_EQ(ready.nodes_size(), 2);
  for (const v1::NodeStatus& n : ready.nodes()) EXPECT_EQ(n.phase(), v1::NODE_PHASE_READY);
  ASSERT_OK(worker_->sandboxes().GetSandbox(s->sandbox_id()));

  std::vector<v1::SandboxPhase> phases;
  for (const v1::Event& e : Events(s->sandbox_id())) {
    if (e.kind() == v1::EVENT_KIND_SANDBOX_PHASE) phases.push_back(e.phase());
  }
  EXPECT_THAT(phases, ::testing::ElementsAre(v1::SANDBOX_PHASE_SCHEDULED, v1::SANDBOX_PHASE_PROVISIONING,
                                             v1::SANDBOX_PHASE_READY));
}

TEST_F(ControllerTest, ResetMovesToTheNextGenerationAndDestroyRemovesEverything) {
  auto s = Create("mini");
  ASSERT_OK(s);
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_READY));
  v1::ResetSandboxRequest reset;
  reset.set_sandbox_id(s->sandbox_id());
  v1::Sandbox resetting;
  ASSERT_OK(Call(&v1::LabController::Stub::ResetSandbox, reset, &resetting));
  EXPECT_EQ(resetting.generation(), 2u);
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_READY));
  auto on_worker = worker_->sandboxes().GetSandbox(s->sandbox_id());
  ASSERT_OK(on_worker);
  EXPECT_EQ(on_worker->generation(), 2u);

  v1::DestroySandboxRequest destroy;
  destroy.set_sandbox_id(s->sandbox_id());
  v1::Sandbox destroying;
  ASSERT_OK(Call(&v1::LabController::Stub::DestroySandbox, destroy, &destroying));
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_DESTROYED));
  EXPECT_THAT(worker_->sandboxes().GetSandbox(s->sandbox_id()), StatusIs(absl::StatusCode::kNotFound));
  auto domains = hv_.ListDomains("host-a");
  ASSERT_OK(domains);
  EXPECT_TRUE(domains->empty());
}

TEST_F(ControllerTest, ResetOfASandboxThatIsNotReadyIsRefused) {
  auto s = Create("mini");
  ASSERT_OK(s);
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_READY));
  v1::DestroySandboxRequest destroy;
  destroy.set_sandbox_id(s->sandbox_id());
  v1::Sandbox out;
  ASSERT_OK(Call(&v1::LabController::Stub::DestroySandbox, destroy, &out));
  v1::ResetSandboxRequest reset;
  reset.set_sandbox_id(s->sandbox_id());
  EXPECT_THAT(Call(&v1::LabController::Stub::ResetSandbox, reset, &out),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("only a READY sandbox")));
}

TEST_F(ControllerTest, SameRequestIdGivesTheSameSandboxOnce) {
  auto a = Create("mini", "req-1");
  auto b = Create("mini", "req-1");
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(a->sandbox_id(), b->sandbox_id());
  // The same request id for another candidate is a mistake, not a repeat: no sandbox of
  // cand-1 goes to cand-2.
  v1::CreateSandboxRequest other;
  other.set_topology("mini");
  other.set_candidate("cand-2");
  other.set_request_id("req-1");
  v1::Sandbox out;
  EXPECT_THAT(Call(&v1::LabController::Stub::CreateSandbox, other, &out),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("request_id: 'req-1' already made sandbox " + a->sandbox_id() +
                                 " for candidate 'cand-1'")));
  v1::ListSandboxesResponse list;
  ASSERT_OK(Call(&v1::LabController::Stub::ListSandboxes, v1::ListSandboxesRequest(), &list));
  EXPECT_EQ(list.sandboxes_size(), 1);
}

TEST_F(ControllerTest, BadRequestsAreRefusedWithTheFieldAndNothingIsCreated) {
  EXPECT_THAT(Create("nope"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("topology 'nope' not found")));
  EXPECT_THAT(Create("Bad/Name"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("topology")));
  v1::CreateSandboxRequest req;
  req.set_topology("mini");
  req.set_candidate("x\ny");
  v1::Sandbox s;
  EXPECT_THAT(Call(&v1::LabController::Stub::CreateSandbox, req, &s),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("candidate")));
  req.set_candidate("c");
  (*req.mutable_labels())["Bad Key"] = "v";
  EXPECT_THAT(Call(&v1::LabController::Stub::CreateSandbox, req, &s),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("labels")));
  v1::ListSandboxesResponse list;
  ASSERT_OK(Call(&v1::LabController::Stub::ListSandboxes, v1::ListSandboxesRequest(), &list));
  EXPECT_EQ(list.sandboxes_size(), 0);
}

TEST_F(ControllerTest, TopologyNeedingMoreThanAnyHostSaysSoWithNumbers) {
  auto topology = ParseTopologyYaml(kTopology, "mini.yaml");
  ASSERT_OK(topology);
  topology->set_name("huge");
  topology->mutable_nodes(0)->set_memory_mib(200000);
  v1::ApplyTopologyRequest apply;
  *apply.mutable_topology() = *topology;
  v1::TopologyRecord record;
  ASSERT_OK(Call(&v1::LabController::Stub::ApplyTopology, apply, &record));
  EXPECT_THAT(Create("huge"), StatusIs(absl::StatusCode::kResourceExhausted,
                                       HasSubstr("no host can fit: needs 2 vCPU, 200128 MiB memory")));
  v1::ListSandboxesResponse list;
  ASSERT_OK(Call(&v1::LabController::Stub::ListSandboxes, v1::ListSandboxesRequest(), &list));
  EXPECT_EQ(list.sandboxes_size(), 0);
}

TEST_F(ControllerTest, ImageWhoseBytesDoNotMatchTheirSha256IsRefusedAndNotListed) {
  v1::ImageManifest bad = labrack::testing::WriteFakeImage(root_ + "/bad", "tampered");
  bad.mutable_artifacts(0)->set_sha256(std::string(64, 'a'));
  EXPECT_THAT(Import(bad, root_ + "/bad"), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("sha256")));
  v1::ListImagesResponse images;
  ASSERT_OK(Call(&v1::LabController::Stub::ListImages, v1::ListImagesRequest(), &images));
  ASSERT_EQ(images.images_size(), 1);
  EXPECT_EQ(images.images(0).manifest().name(), "tiny");
}

TEST_F(ControllerTest, TopologyNamingAnUnknownImageIsRefused) {
  auto topology = ParseTopologyYaml(kTopology, "mini.yaml");
  ASSERT_OK(topology);
  topology->mutable_nodes(1)->set_image("nowhere");
  v1::ApplyTopologyRequest apply;
  *apply.mutable_topology() = *topology;
  v1::TopologyRecord record;
  EXPECT_THAT(Call(&v1::LabController::Stub::ApplyTopology, apply, &record),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("'nowhere' was never imported")));
}

TEST_F(ControllerTest, AShapedLinkWithoutTheLinkEmulatorImageIsRefusedUntilItIsImported) {
  auto topology = ParseTopologyYaml(kTopology, "mini.yaml");
  ASSERT_OK(topology);
  v1::LinkShape* shape = topology->mutable_networks(0)->mutable_shape();
  shape->set_latency_ms(30);
  v1::ApplyTopologyRequest apply;
  *apply.mutable_topology() = *topology;
  v1::TopologyRecord record;
  EXPECT_THAT(Call(&v1::LabController::Stub::ApplyTopology, apply, &record),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("shape"), HasSubstr("'linkemu'"))));
  v1::ImageManifest linkemu = labrack::testing::WriteFakeImage(root_ + "/linkemu", "linkemu");
  ASSERT_OK(Import(linkemu, root_ + "/linkemu"));
  EXPECT_OK(Call(&v1::LabController::Stub::ApplyTopology, apply, &record));
}

TEST_F(ControllerTest, SandboxOnTheWorkerThatTheStoreDoesNotKnowIsRemoved) {
  GrpcWorkerClient client(worker_->advertised_address());
  v1::SandboxSpec spec;
  spec.set_sandbox_id("feedbeef-0000-4000-8000-000000000001");
  spec.set_generation(1);
  auto topology = ParseTopologyYaml(kTopology, "mini.yaml");
  ASSERT_OK(topology);
  *spec.mutable_topology() = *topology;
  ASSERT_OK(client.EnsureImage(manifest_, [&](const v1::ImageArtifact& a) {
    return root_ + "/image/" + a.file();
  }));
  ASSERT_OK(client.CreateSandbox(spec, false, absl::Seconds(10)));
  EXPECT_TRUE(Eventually([&] { return !worker_->sandboxes().GetSandbox(spec.sandbox_id()).ok(); }))
      << "the orphan is still on the worker";
  bool reported = false;
  for (const v1::Event& e : Events("")) {
    reported = reported || (e.kind() == v1::EVENT_KIND_ORPHAN_REMOVED && e.sandbox_id() == spec.sandbox_id());
  }
  EXPECT_TRUE(reported);
}

TEST_F(ControllerTest, AReadySandboxWhoseGuestVanishedFailsAndWhatIsLeftOfItGoes) {
  auto s = Create("mini");
  ASSERT_OK(s);
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_READY));
  ASSERT_OK(hv_.DestroyDomain(DomainName(s->sandbox_id(), "server")));
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_FAILED));
  EXPECT_THAT(Get(s->sandbox_id()).message(), HasSubstr("node server vanished from host host-a"));
  EXPECT_TRUE(Eventually([&] {
    return hv_.domain_count() + hv_.network_count() + hv_.volume_count() == 0;
  })) << "the rest of the failed sandbox stayed on the host";
}

TEST_F(ControllerTest, SandboxesOfASilentHostAreLostAndComeBackWithIt) {
  auto s = Create("mini");
  ASSERT_OK(s);
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_READY));
  worker_.reset();  // the worker process dies; its guests (in hv_) keep running
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_LOST));
  v1::ListHostsResponse hosts;
  ASSERT_OK(Call(&v1::LabController::Stub::ListHosts, v1::ListHostsRequest(), &hosts));
  EXPECT_EQ(hosts.hosts(0).health(), v1::HOST_HEALTH_UNREACHABLE);
  ASSERT_NO_FATAL_FAILURE(StartWorker());
  EXPECT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_READY)) << Get(s->sandbox_id()).message();
}

TEST_F(ControllerTest, DrainedHostGetsNoNewSandboxes) {
  v1::DrainHostRequest drain;
  drain.set_host_id("host-a");
  drain.set_drain(true);
  v1::Host host;
  ASSERT_OK(Call(&v1::LabController::Stub::DrainHost, drain, &host));
  EXPECT_TRUE(host.drained());
  EXPECT_THAT(Create("mini"), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("1 drained")));
  drain.set_drain(false);
  ASSERT_OK(Call(&v1::LabController::Stub::DrainHost, drain, &host));
  EXPECT_OK(Create("mini"));
}

// gRPC's reflection protocol spoken by hand (its protos are not installed with Debian's
// gRPC): a ServerReflectionRequest with list_services = "*" (field 7) must be answered
// with the names of the services, LabController among them.
TEST_F(ControllerTest, ServesReflectionSoGenericToolsCanFindTheApi) {
  grpc::GenericStub stub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", controller_->port()),
                                             grpc::InsecureChannelCredentials()));
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto call = stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t want) {
    ASSERT_TRUE(cq.Next(&tag, &ok));
    ASSERT_EQ(reinterpret_cast<intptr_t>(tag), want);
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_NO_FATAL_FAILURE(step(1));
  grpc::Slice request(std::string("\x3a\x01*", 3));
  grpc::ByteBuffer out(&request, 1);
  call->Write(out, reinterpret_cast<void*>(2));
  ASSERT_NO_FATAL_FAILURE(step(2));
  grpc::ByteBuffer in;
  call->Read(&in, reinterpret_cast<void*>(3));
  ASSERT_NO_FATAL_FAILURE(step(3));
  ASSERT_TRUE(ok) << "no answer from the reflection service";
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(in.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_THAT(bytes, HasSubstr("labrack.v1.LabController"));
  call->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_NO_FATAL_FAILURE(step(4));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_NO_FATAL_FAILURE(step(5));
  EXPECT_TRUE(status.ok()) << status.error_message();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

// --- image overrides ---

class ImageOverrideTest : public ControllerTest {
 protected:
  using Overrides = std::map<std::string, std::string>;

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ControllerTest::SetUp());
    other_ = labrack::testing::WriteFakeImage(root_ + "/other", "tiny-b");
    ASSERT_OK(Import(other_, root_ + "/other"));
  }

  absl::StatusOr<v1::Sandbox> CreateWith(const Overrides& overrides,
                                         const std::string& request_id = "") {
    v1::CreateSandboxRequest req;
    req.set_topology("mini");
    req.set_candidate("cand-1");
    req.set_request_id(request_id);
    req.mutable_image_overrides()->insert(overrides.begin(), overrides.end());
    v1::Sandbox s;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::CreateSandbox, req, &s));
    return s;
  }

  // kTopology named `name`, every node on `image`, applied with `overrides`.
  absl::StatusOr<v1::TopologyRecord> ApplyWith(const std::string& name, const std::string& image,
                                               const Overrides& overrides) {
    ASSIGN_OR_RETURN(v1::Topology topology, ParseTopologyYaml(kTopology, "mini.yaml"));
    topology.set_name(name);
    for (v1::Node& node : *topology.mutable_nodes()) node.set_image(image);
    v1::ApplyTopologyRequest req;
    *req.mutable_topology() = topology;
    req.mutable_image_overrides()->insert(overrides.begin(), overrides.end());
    v1::TopologyRecord record;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::ApplyTopology, req, &record));
    return record;
  }

  // The bytes of the kernel the worker gave a node's guest.
  std::string KernelOf(const std::string& sandbox_id, const std::string& node) {
    absl::StatusOr<worker::DomainSpec> spec = hv_.DomainDefinition(DomainName(sandbox_id, node));
    EXPECT_OK(spec);
    return spec.ok() ? ReadFile(spec->kernel) : "";
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }

  int SandboxCount() {
    v1::ListSandboxesRequest req;
    req.set_include_destroyed(true);
    v1::ListSandboxesResponse list;
    EXPECT_OK(Call(&v1::LabController::Stub::ListSandboxes, req, &list));
    return list.sandboxes_size();
  }

  v1::ImageManifest other_;
};

TEST_F(ImageOverrideTest, CreateWithAnOverrideBuildsEveryNodeFromTheOtherImage) {
  auto plain = Create("mini");
  auto overridden = CreateWith({{"tiny", "tiny-b"}});
  ASSERT_OK(plain);
  ASSERT_OK(overridden);
  ASSERT_TRUE(WaitPhase(plain->sandbox_id(), v1::SANDBOX_PHASE_READY));
  ASSERT_TRUE(WaitPhase(overridden->sandbox_id(), v1::SANDBOX_PHASE_READY))
      << Get(overridden->sandbox_id()).message();
  const std::string tiny_kernel = ReadFile(root_ + "/image/vmlinuz");
  const std::string other_kernel = ReadFile(root_ + "/other/vmlinuz");
  ASSERT_NE(tiny_kernel, other_kernel);
  for (const std::string node : {"server", "storage"}) {
    EXPECT_EQ(KernelOf(plain->sandbox_id(), node), tiny_kernel) << node;
    EXPECT_EQ(KernelOf(overridden->sandbox_id(), node), other_kernel) << node;
  }
  v1::Sandbox stored = Get(overridden->sandbox_id());
  ASSERT_EQ(stored.image_overrides().size(), 1u);
  EXPECT_EQ(stored.image_overrides().at("tiny"), "tiny-b");
  EXPECT_TRUE(Get(plain->sandbox_id()).image_overrides().empty());
  // The stored topology is not changed by a create's overrides.
  v1::GetTopologyRequest get;
  get.set_name("mini");
  v1::TopologyRecord record;
  ASSERT_OK(Call(&v1::LabController::Stub::GetTopology, get, &record));
  EXPECT_EQ(record.version(), 1u);
  for (const v1::Node& node : record.topology().nodes()) EXPECT_EQ(node.image(), "tiny");
}

TEST_F(ImageOverrideTest, ApplyWithAnOverrideStoresTheReplacedImage) {
  EXPECT_THAT(ApplyWith("level", "debian-server", {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'debian-server' was never imported")));
  auto applied = ApplyWith("level", "debian-server", {{"debian-server", "tiny-b"}});
  ASSERT_OK(applied);
  v1::GetTopologyRequest get;
  get.set_name("level");
  v1::TopologyRecord stored;
  ASSERT_OK(Call(&v1::LabController::Stub::GetTopology, get, &stored));
  EXPECT_EQ(stored.version(), applied->version());
  ASSERT_EQ(stored.topology().nodes_size(), 2);
  for (const v1::Node& node : stored.topology().nodes()) EXPECT_EQ(node.image(), "tiny-b");
}

TEST_F(ImageOverrideTest, BadOverridesAreRefusedNamingTheEntryAndCreateNothing) {
  struct Case {
    Overrides overrides;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"debian-server", "tiny-b"}}, absl::StatusCode::kInvalidArgument,
       "image_overrides[\"debian-server\"]: no node of topology"},
      {{{"Tiny/x", "tiny-b"}}, absl::StatusCode::kInvalidArgument,
       "image_overrides[\"Tiny/x\"] key \"Tiny/x\": must be 1 to 64 characters"},
      {{{"tiny", "../etc"}}, absl::StatusCode::kInvalidArgument,
       "image_overrides[\"tiny\"] \"../etc\": must be 1 to 64 characters"},
      {{{"tiny", ""}}, absl::StatusCode::kInvalidArgument, "image_overrides[\"tiny\"] \"\""},
      {{{"tiny", "nowhere"}}, absl::StatusCode::kFailedPrecondition,
       "image_overrides[\"tiny\"]: image 'nowhere' was never imported; import it first"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(CreateWith(c.overrides), StatusIs(c.code, HasSubstr(c.message))) << c.message;
    EXPECT_THAT(ApplyWith("fresh", "tiny", c.overrides), StatusIs(c.code, HasSubstr(c.message)))
        << c.message;
    EXPECT_THAT(ApplyWith("mini", "tiny", c.overrides), StatusIs(c.code, HasSubstr(c.message)))
        << c.message;
  }
  EXPECT_EQ(SandboxCount(), 0);
  v1::ListTopologiesResponse topologies;
  ASSERT_OK(Call(&v1::LabController::Stub::ListTopologies, v1::ListTopologiesRequest(), &topologies));
  ASSERT_EQ(topologies.topologies_size(), 1);
  EXPECT_EQ(topologies.topologies(0).topology().name(), "mini");
  EXPECT_EQ(topologies.topologies(0).version(), 1u);
}

TEST_F(ImageOverrideTest, RepeatedRequestIdGivesTheFirstSandboxOnlyForTheSameOverrides) {
  auto first = CreateWith({{"tiny", "tiny-b"}}, "exam-1");
  ASSERT_OK(first);
  // A newer version of the topology no longer uses "tiny": the repeat is still answered.
  ASSERT_OK(ApplyWith("mini", "tiny", {{"tiny", "tiny-b"}}));
  auto again = CreateWith({{"tiny", "tiny-b"}}, "exam-1");
  ASSERT_OK(again);
  EXPECT_EQ(again->sandbox_id(), first->sandbox_id());
  EXPECT_THAT(CreateWith({}, "exam-1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("request_id: 'exam-1' already made sandbox " +
                                       first->sandbox_id()),
                             HasSubstr("{tiny=tiny-b}"))));
  EXPECT_THAT(CreateWith({{"tiny", "tiny"}}, "exam-1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  EXPECT_EQ(SandboxCount(), 1);
}

}  // namespace
}  // namespace labrack::controller
