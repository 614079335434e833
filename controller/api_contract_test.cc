// What a client written from the .proto files alone relies on: topologies and manifests as
// the YAML text users write, imports that leave out what the store holds, events that carry
// node counts, INVALID_ARGUMENT for malformed ids, messages in API terms, a console that
// says when it is open, and DestroySandbox answering what its comment promises.
#include "common/names.h"
#include "common/topology/manifest_yaml.h"
#include "controller/controller_test_fixture.h"
#include "gmock/gmock.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// kTopology under another name, with a typo on line 8 (the `memory_mb` key).
constexpr char kBadYaml[] = R"(name: mini2
networks:
  - name: lan
    cidr: 10.10.1.0/24
nodes:
  - name: server
    image: tiny
    memory_mb: 128
    nics: [{network: lan}]
)";

std::string Renamed(absl::string_view yaml, absl::string_view name) {
  std::string text(yaml);
  text.replace(text.find("name: mini"), 10, absl::StrCat("name: ", name));
  return text;
}

class ApiContractTest : public ControllerTest {
 protected:
  absl::StatusOr<v1::TopologyRecord> Apply(const v1::ApplyTopologyRequest& req) {
    v1::TopologyRecord out;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::ApplyTopology, req, &out));
    return out;
  }
  // An ImportImage of `first` followed by no bytes at all.
  absl::StatusOr<v1::Image> ImportWithoutBytes(const v1::EnsureImageChunk& first) {
    grpc::ClientContext ctx;
    v1::Image image;
    auto writer = stub_->ImportImage(&ctx, &image);
    writer->Write(first);
    writer->WritesDone();
    RETURN_IF_ERROR(FromGrpc(writer->Finish()));
    return image;
  }
  absl::Status Watch(const std::string& sandbox_id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::WatchEventsRequest req;
    req.set_sandbox_id(sandbox_id);
    auto reader = stub_->WatchEvents(&ctx, req);
    for (v1::Event e; reader->Read(&e);) {
    }
    return FromGrpc(reader->Finish());
  }
};

TEST_F(ApiContractTest, ApplyTopologyTakesTheYamlTextAUserWrites) {
  v1::ApplyTopologyRequest req;
  req.set_topology_yaml(Renamed(kTopology, "mini2"));
  absl::StatusOr<v1::TopologyRecord> record = Apply(req);
  ASSERT_OK(record);
  EXPECT_EQ(record->topology().name(), "mini2");
  EXPECT_EQ(record->topology().nodes_size(), 2);
  v1::ValidateTopologyRequest validate;
  validate.set_topology_yaml(kTopology);
  v1::ValidateTopologyResponse needs;
  ASSERT_OK(Call(&v1::LabController::Stub::ValidateTopology, validate, &needs));
  EXPECT_EQ(needs.needs().memory_mib(), 256u);
}

TEST_F(ApiContractTest, ATopologyComesAsProtoOrYamlNeverBothNorNeither) {
  v1::ApplyTopologyRequest both;
  both.set_topology_yaml(kTopology);
  both.mutable_topology()->set_name("mini");
  EXPECT_THAT(Apply(both),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("topology, topology_yaml"), HasSubstr("both"))));
  EXPECT_THAT(Apply(v1::ApplyTopologyRequest()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("topology, topology_yaml"), HasSubstr("neither"))));
  v1::ValidateTopologyResponse needs;
  EXPECT_THAT(
      Call(&v1::LabController::Stub::ValidateTopology, v1::ValidateTopologyRequest(), &needs),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("topology, topology_yaml")));
}

TEST_F(ApiContractTest, YamlErrorsAreLabrackctlsNamingFileLineFieldAndRule) {
  v1::ApplyTopologyRequest req;
  req.set_topology_yaml(kBadYaml);
  req.set_topology_file("lab.yaml");
  absl::Status got = Apply(req).status();
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lab.yaml:8:")));
  EXPECT_EQ(got.message(), ParseTopologyYaml(kBadYaml, "lab.yaml").status().message());
  req.clear_topology_file();
  EXPECT_THAT(Apply(req), StatusIs(absl::StatusCode::kInvalidArgument,
                                   AllOf(HasSubstr("topology.yaml:8:"), HasSubstr("memory_mb"))));
}

TEST_F(ApiContractTest, AnImportMayLeaveOutWhatTheStoreHolds) {
  v1::EnsureImageChunk first;
  first.set_manifest_yaml(ImageManifestToYaml(manifest_));
  absl::StatusOr<v1::Image> again = ImportWithoutBytes(first);
  ASSERT_OK(again);
  EXPECT_TRUE(again->already_present());
  EXPECT_EQ(again->manifest().SerializeAsString(), manifest_.SerializeAsString());
  // The same bytes sent once more store nothing new either.
  ASSERT_OK(Import(manifest_, root_ + "/image"));
  // A new image on artifacts the store holds: its manifest is new, no bytes are needed.
  v1::ImageManifest copy = manifest_;
  copy.set_name("tiny-copy");
  first.set_manifest_yaml(ImageManifestToYaml(copy));
  absl::StatusOr<v1::Image> made = ImportWithoutBytes(first);
  ASSERT_OK(made);
  EXPECT_FALSE(made->already_present());
  v1::ListImagesResponse images;
  ASSERT_OK(Call(&v1::LabController::Stub::ListImages, v1::ListImagesRequest(), &images));
  EXPECT_EQ(images.images_size(), 2);
}

TEST_F(ApiContractTest, AnArtifactNeitherHeldNorSentFailsNamingTheFile) {
  v1::ImageManifest other = manifest_;
  other.set_name("other");
  other.mutable_artifacts(0)->set_sha256(std::string(64, 'e'));
  v1::EnsureImageChunk first;
  *first.mutable_manifest() = other;
  EXPECT_THAT(ImportWithoutBytes(first),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(other.artifacts(0).file()), HasSubstr("not in the store"))));
}

TEST_F(ApiContractTest, AManifestYamlErrorNamesManifestYamlTheLineAndTheField) {
  v1::EnsureImageChunk first;
  first.set_manifest_yaml("name: tiny\nversion: 1\nbootmode: disk\n");
  EXPECT_THAT(ImportWithoutBytes(first),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("manifest.yaml:3:"), HasSubstr("bootmode"))));
}

TEST_F(ApiContractTest, EverySandboxEventCarriesTheNodeCounts) {
  auto s = Create("mini");
  ASSERT_OK(s);
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_READY));
  bool ready_seen = false;
  for (const v1::Event& e : Events(s->sandbox_id())) {
    EXPECT_EQ(e.nodes_total(), 2u) << e.DebugString();
    if (e.kind() == v1::EVENT_KIND_SANDBOX_PHASE && e.phase() == v1::SANDBOX_PHASE_READY) {
      ready_seen = true;
      EXPECT_EQ(e.nodes_ready(), 2u);
    }
  }
  EXPECT_TRUE(ready_seen);
  v1::DestroySandboxRequest destroy;
  destroy.set_sandbox_id(s->sandbox_id());
  v1::Sandbox out;
  ASSERT_OK(Call(&v1::LabController::Stub::DestroySandbox, destroy, &out));
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_DESTROYED));
  const std::vector<v1::Event> events = Events(s->sandbox_id());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().phase(), v1::SANDBOX_PHASE_DESTROYED);
  EXPECT_EQ(events.back().nodes_ready(), 0u) << "a destroyed sandbox has no ready node";
  EXPECT_EQ(events.back().nodes_total(), 2u);
}

TEST_F(ApiContractTest, AMalformedSandboxIdIsInvalidForWatchEventsAsForGetSandbox) {
  EXPECT_THAT(Watch("../../controller.db"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sandbox_id")));
  EXPECT_THAT(Watch("0123abcd-0000-4000-8000-000000000009"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not found")));
}

TEST_F(ApiContractTest, ErrorsSpeakOfCallsNotOfLabrackctl) {
  absl::Status unknown = Create("nowhere").status();
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound, HasSubstr("(ApplyTopology)")));
  EXPECT_THAT(std::string(unknown.message()), Not(HasSubstr("labrackctl")));
  v1::ApplyTopologyRequest req;
  req.set_topology_yaml(Renamed(kTopology, "mini3"));
  (*req.mutable_image_overrides())["tiny"] = "nowhere";
  absl::Status never = Apply(req).status();
  EXPECT_THAT(never, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("(ImportImage)")));
  EXPECT_THAT(std::string(never.message()), Not(HasSubstr("labrackctl")));
  auto anonymous = v1::LabController::NewStub(ChannelWithToken(""));
  grpc::ClientContext ctx;
  v1::ListHostsResponse hosts;
  grpc::Status refused = anonymous->ListHosts(&ctx, v1::ListHostsRequest(), &hosts);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(refused.error_message(),
              AllOf(HasSubstr("authorization: Bearer"), Not(HasSubstr("labrackctl"))));
}

TEST_F(ApiContractTest, DestroyAnswersDestroyingOrForAFailedSandboxDestroyed) {
  auto ready = Create("mini", "ready");
  auto failed = Create("mini", "failed");
  ASSERT_OK(ready);
  ASSERT_OK(failed);
  ASSERT_TRUE(WaitPhase(ready->sandbox_id(), v1::SANDBOX_PHASE_READY));
  ASSERT_TRUE(WaitPhase(failed->sandbox_id(), v1::SANDBOX_PHASE_READY));
  ASSERT_OK(hv_.DestroyDomain(DomainName(failed->sandbox_id(), "server")));
  ASSERT_TRUE(WaitPhase(failed->sandbox_id(), v1::SANDBOX_PHASE_FAILED));
  v1::DestroySandboxRequest req;
  v1::Sandbox out;
  req.set_sandbox_id(ready->sandbox_id());
  ASSERT_OK(Call(&v1::LabController::Stub::DestroySandbox, req, &out));
  EXPECT_EQ(out.phase(), v1::SANDBOX_PHASE_DESTROYING);
  req.set_sandbox_id(failed->sandbox_id());
  ASSERT_OK(Call(&v1::LabController::Stub::DestroySandbox, req, &out));
  EXPECT_EQ(out.phase(), v1::SANDBOX_PHASE_DESTROYED);
  ASSERT_TRUE(WaitPhase(ready->sandbox_id(), v1::SANDBOX_PHASE_DESTROYED));
}

TEST_F(ApiContractTest, TheConsoleSaysItIsOpenWithAnEmptyFirstAnswer) {
  auto s = Create("mini");
  ASSERT_OK(s);
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_READY));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto stream = stub_->AttachConsole(&ctx);
  v1::ConsoleInput open;
  open.mutable_open()->set_sandbox_id(s->sandbox_id());
  open.mutable_open()->set_node("server");
  ASSERT_TRUE(stream->Write(open));
  v1::ConsoleOutput first;
  ASSERT_TRUE(stream->Read(&first)) << stream->Finish().error_message();
  EXPECT_EQ(first.data(), "");
  ctx.TryCancel();
  stream->Finish();

  grpc::ClientContext refused_ctx;
  refused_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto refused = stub_->AttachConsole(&refused_ctx);
  open.mutable_open()->set_node("nope");
  ASSERT_TRUE(refused->Write(open));
  EXPECT_FALSE(refused->Read(&first)) << "no answer before a refusal";
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace labrack::controller
