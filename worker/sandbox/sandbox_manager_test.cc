// Worker logic on FakeHypervisor: what create, reset, destroy and recovery do to the
// hypervisor's objects, without libvirt.
#include "worker/sandbox/sandbox_manager.h"

#include <google/protobuf/text_format.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"
#include "worker/hypervisor/fake_hypervisor.h"
#include "worker/hypervisor/forwarding_hypervisor.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kSpec[] = R"pb(
  sandbox_id: "0123abcd-0000-4000-8000-000000000001"
  generation: 1
  candidate: "cand-1"
  topology {
    name: "mini"
    networks { name: "lan" cidr: "10.10.1.0/24" }
    nodes {
      name: "server" role: NODE_ROLE_SERVER image: "tiny" vcpus: 1 memory_mib: 128
      nics { network: "lan" }
    }
    nodes {
      name: "storage" role: NODE_ROLE_STORAGE image: "tiny" vcpus: 1 memory_mib: 128
      nics { network: "lan" }
      disks { name: "d0" size_mib: 1024 }
      disks { name: "d1" size_mib: 1024 }
    }
  }
)pb";

v1::SandboxSpec Spec(const std::string& id = "") {
  v1::SandboxSpec spec;
  google::protobuf::TextFormat::ParseFromString(kSpec, &spec);
  if (!id.empty()) spec.set_sandbox_id(id);
  return spec;
}

// Fails every volume creation after the first `allowed` ones.
class FailingVolumes : public ForwardingHypervisor {
 public:
  FailingVolumes(Hypervisor* target, int allowed) : ForwardingHypervisor(target), allowed_(allowed) {}
  absl::StatusOr<std::string> CreateVolume(const VolumeSpec& spec) override {
    if (allowed_.fetch_sub(1) <= 0) return absl::UnavailableError("disk full (injected)");
    return ForwardingHypervisor::CreateVolume(spec);
  }

 private:
  std::atomic<int> allowed_;
};

// Reports one domain in `state` for its first `times` lookups, as libvirt does for a domain
// it is still setting up on a busy host.
class HeldDomain : public ForwardingHypervisor {
 public:
  HeldDomain(Hypervisor* target, std::string suffix, DomainState state, int times)
      : ForwardingHypervisor(target), suffix_(std::move(suffix)), state_(state), times_(times) {}
  absl::StatusOr<DomainInfo> GetDomain(const std::string& name) override {
    absl::StatusOr<DomainInfo> info = ForwardingHypervisor::GetDomain(name);
    if (info.ok() && name.ends_with(suffix_) && times_.fetch_sub(1) > 0) info->state = state_;
    return info;
  }

 private:
  const std::string suffix_;
  const DomainState state_;
  std::atomic<int> times_;
};

class SandboxManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = labrack::testing::MakeTempDir("sandbox-manager");
    auto cache = ImageCache::Open(root_ + "/images");
    ASSERT_OK(cache);
    images_ = *std::move(cache);
    ASSERT_OK(images_->ImportFromFolder(labrack::testing::WriteFakeImage(root_ + "/src", "tiny"),
                                        root_ + "/src"));
    config_.host_id = "host-a";
    config_.state_dir = root_ + "/state";
    config_.ready_timeout = absl::Seconds(2);
    Restart(&fake_);
  }
  void TearDown() override {
    manager_.reset();
    std::filesystem::remove_all(root_);
  }
  void Restart(Hypervisor* hv) {
    manager_.reset();
    auto m = SandboxManager::Create(hv, images_.get(), config_);
    ASSERT_OK(m);
    manager_ = *std::move(m);
  }

  std::string root_;
  FakeHypervisor fake_{"LABRACK-READY"};
  std::unique_ptr<ImageCache> images_;
  WorkerConfig config_;
  std::unique_ptr<SandboxManager> manager_;
};

TEST_F(SandboxManagerTest, CreateBuildsNetworksVolumesAndRunningDomains) {
  auto st = manager_->CreateSandbox(Spec(), /*wait_ready=*/true);
  ASSERT_OK(st);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->message();
  EXPECT_EQ(fake_.network_count(), 1);
  EXPECT_EQ(fake_.domain_count(), 2);
  EXPECT_EQ(fake_.volume_count(), 4);  // two root overlays, two blank disks
  auto server = fake_.DomainDefinition("lr-0123abcd-server");
  ASSERT_OK(server);
  EXPECT_EQ(server->tag.host_id, "host-a");
  EXPECT_EQ(server->tag.generation, 1u);
  EXPECT_THAT(server->cmdline, HasSubstr("labrack.node=server"));
  EXPECT_THAT(server->cmdline, HasSubstr("=10.10.1.1/24"));
  ASSERT_EQ(server->nics.size(), 1u);
  EXPECT_EQ(server->nics[0].network, "lr-0123abcd-lan");
  EXPECT_EQ(server->nics[0].filter_ip, "10.10.1.1");
  ASSERT_EQ(server->disks.size(), 1u);
  EXPECT_FALSE(server->disks[0].backing_path.empty());
  EXPECT_EQ(st->nodes(1).addresses(0), "10.10.1.2/24");
}

TEST_F(SandboxManagerTest, CreateIsIdempotentForTheSameGeneration) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), false));
  ASSERT_OK(manager_->CreateSandbox(Spec(), false));
  EXPECT_EQ(fake_.starts("lr-0123abcd-server"), 1);
  v1::SandboxSpec other = Spec();
  other.set_generation(5);
  EXPECT_THAT(manager_->CreateSandbox(other, false), StatusIs(absl::StatusCode::kAborted));
}

TEST_F(SandboxManagerTest, RefusesAnIdWhoseShortNameIsTaken) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), false));
  EXPECT_THAT(manager_->CreateSandbox(Spec("0123abcd-ffff"), false),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("first 8 characters")));
  EXPECT_EQ(fake_.domain_count(), 2);
}

TEST_F(SandboxManagerTest, BadSpecsChangeNothing) {
  struct Case {
    const char* what;
    std::function<void(v1::SandboxSpec&)> mutate;
    const char* message;
  } cases[] = {
      {"invalid node name", [](auto& s) { s.mutable_topology()->mutable_nodes(0)->set_name("Web_1"); },
       "nodes[0].name"},
      {"duplicate node", [](auto& s) { s.mutable_topology()->mutable_nodes(1)->set_name("server"); },
       "duplicate"},
      {"nic on unknown network",
       [](auto& s) { s.mutable_topology()->mutable_nodes(0)->mutable_nics(0)->set_network("wan"); },
       "unknown network"},
      {"0 MiB memory", [](auto& s) { s.mutable_topology()->mutable_nodes(0)->set_memory_mib(0); },
       "memory_mib"},
      {"path in image name",
       [](auto& s) { s.mutable_topology()->mutable_nodes(0)->set_image("../../etc/passwd"); },
       "image"},
      {"bad sandbox id", [](auto& s) { s.set_sandbox_id("../x"); }, "sandbox_id"},
  };
  for (const Case& c : cases) {
    v1::SandboxSpec spec = Spec();
    c.mutate(spec);
    EXPECT_THAT(manager_->CreateSandbox(spec, false),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.what;
  }
  EXPECT_EQ(fake_.domain_count(), 0);
  EXPECT_EQ(fake_.network_count(), 0);
  EXPECT_EQ(fake_.volume_count(), 0);
  EXPECT_TRUE(manager_->ListSandboxes().empty());
}

TEST_F(SandboxManagerTest, MissingImageIsNotFoundAndChangesNothing) {
  v1::SandboxSpec spec = Spec();
  spec.mutable_topology()->mutable_nodes(0)->set_image("nosuch");
  EXPECT_THAT(manager_->CreateSandbox(spec, false),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nosuch")));
  EXPECT_EQ(fake_.network_count(), 0);
}

TEST_F(SandboxManagerTest, FailedCreateRemovesWhatItMade) {
  FailingVolumes failing(&fake_, 2);
  Restart(&failing);
  EXPECT_THAT(manager_->CreateSandbox(Spec(), false), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(fake_.domain_count(), 0);
  EXPECT_EQ(fake_.network_count(), 0);
  EXPECT_EQ(fake_.volume_count(), 0);
  EXPECT_THAT(manager_->GetSandbox(Spec().sandbox_id()), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SandboxManagerTest, ResetRecreatesVolumesAndRaisesTheGeneration) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  auto st = manager_->ResetSandbox(Spec().sandbox_id(), 2, true);
  ASSERT_OK(st);
  EXPECT_EQ(st->generation(), 2u);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(fake_.starts("lr-0123abcd-server"), 2);
  EXPECT_EQ(fake_.DomainDefinition("lr-0123abcd-storage")->tag.generation, 2u);
  EXPECT_EQ(fake_.volume_count(), 4);
  // Retrying the same reset is a no-op; skipping a generation is refused.
  ASSERT_OK(manager_->ResetSandbox(Spec().sandbox_id(), 2, false));
  EXPECT_EQ(fake_.starts("lr-0123abcd-server"), 2);
  EXPECT_THAT(manager_->ResetSandbox(Spec().sandbox_id(), 4, false),
              StatusIs(absl::StatusCode::kAborted));
}

TEST_F(SandboxManagerTest, NodeResetRestartsOnlyThatNodeAndSurvivesARestart) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  auto st = manager_->ResetSandbox(Spec().sandbox_id(), 2, true, {"storage"});
  ASSERT_OK(st);
  EXPECT_EQ(st->generation(), 2u);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(fake_.starts("lr-0123abcd-storage"), 2);
  EXPECT_EQ(fake_.starts("lr-0123abcd-server"), 1);
  EXPECT_EQ(fake_.DomainDefinition("lr-0123abcd-server")->tag.generation, 2u);
  EXPECT_EQ(fake_.volume_count(), 4);
  // A restarted worker sees one generation, not an interrupted reset.
  Restart(&fake_);
  auto again = manager_->GetSandbox(Spec().sandbox_id());
  ASSERT_OK(again);
  EXPECT_EQ(again->generation(), 2u);
  EXPECT_NE(again->phase(), v1::SANDBOX_PHASE_FAILED) << again->message();
}

TEST_F(SandboxManagerTest, NodeResetOfAnUnknownNodeChangesNothing) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  EXPECT_THAT(manager_->ResetSandbox(Spec().sandbox_id(), 2, true, {"nosuch"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nodes[0]")));
  EXPECT_THAT(manager_->ResetSandbox(Spec().sandbox_id(), 2, true, {"server", "server"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("named twice")));
  EXPECT_EQ(manager_->GetSandbox(Spec().sandbox_id())->generation(), 1u);
  EXPECT_EQ(fake_.starts("lr-0123abcd-server"), 1);
  EXPECT_EQ(fake_.starts("lr-0123abcd-storage"), 1);
}

// Two routers joined by a shaped WAN, on a host whose kernel has netem.
v1::SandboxSpec ShapedSpec() {
  v1::SandboxSpec spec;
  google::protobuf::TextFormat::ParseFromString(R"pb(
    sandbox_id: "0123abcd-0000-4000-8000-000000000002"
    generation: 1
    topology {
      name: "wan"
      networks {
        name: "wan" cidr: "10.99.0.0/30"
        shape { bandwidth_kbps: 10000 latency_ms: 40 loss_percent: 0.5 }
      }
      nodes {
        name: "r1" role: NODE_ROLE_ROUTER image: "tiny" vcpus: 1 memory_mib: 128
        nics { network: "wan" }
      }
      nodes {
        name: "r2" role: NODE_ROLE_ROUTER image: "tiny" vcpus: 1 memory_mib: 128
        nics { network: "wan" }
      }
    }
  )pb", &spec);
  return spec;
}

class HostShapingTest : public SandboxManagerTest {
 protected:
  void SetUp() override {
    config_.host_has_netem = true;
    config_.shape_host_tap = [this](const std::string& tap, const std::string& args) {
      absl::MutexLock lock(&mu_);
      shaped_.push_back(tap + " " + args);
      return fail_ ? absl::InternalError("tc: RTNETLINK answers: Operation not supported")
                   : absl::OkStatus();
    };
    SandboxManagerTest::SetUp();
  }
  std::vector<std::string> Shaped() {
    absl::MutexLock lock(&mu_);
    return shaped_;
  }

  absl::Mutex mu_;
  std::vector<std::string> shaped_;
  bool fail_ = false;
};

TEST_F(HostShapingTest, BothEndsOfTheLinkAreShapedAfterEveryStart) {
  ASSERT_OK(manager_->CreateSandbox(ShapedSpec(), true));
  EXPECT_EQ(fake_.domain_count(), 2) << "no emulator on a host with netem";
  const std::string netem = "delay 40ms loss 0.5% rate 10000kbit";
  EXPECT_THAT(Shaped(), ::testing::UnorderedElementsAre("lr0123abcdv0000 " + netem,
                                                        "lr0123abcdv0100 " + netem));
  EXPECT_EQ(fake_.DomainDefinition("lr-0123abcd-r1")->nics[0].tap, "lr0123abcdv0000");
  // A reset starts new domains, whose taps are new: shaped again.
  ASSERT_OK(manager_->ResetSandbox(ShapedSpec().sandbox_id(), 2, true));
  EXPECT_EQ(Shaped().size(), 4u);
}

TEST_F(HostShapingTest, ALinkThatCannotBeShapedFailsTheCreateAndLeavesNothing) {
  fail_ = true;
  EXPECT_THAT(manager_->CreateSandbox(ShapedSpec(), true),
              StatusIs(absl::StatusCode::kInternal,
                       ::testing::AllOf(HasSubstr("shaping its link on the host"),
                                        HasSubstr("Operation not supported"))));
  EXPECT_EQ(fake_.domain_count(), 0);
  EXPECT_EQ(fake_.network_count(), 0);
  EXPECT_EQ(fake_.volume_count(), 0);
}

TEST_F(SandboxManagerTest, DestroyRemovesEverythingAndIsIdempotent) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), false));
  auto existed = manager_->DestroySandbox(Spec().sandbox_id());
  ASSERT_OK(existed);
  EXPECT_TRUE(*existed);
  EXPECT_EQ(fake_.domain_count(), 0);
  EXPECT_EQ(fake_.network_count(), 0);
  EXPECT_EQ(fake_.volume_count(), 0);
  EXPECT_FALSE(std::filesystem::exists(config_.state_dir + "/sandboxes/" + Spec().sandbox_id()));
  existed = manager_->DestroySandbox(Spec().sandbox_id());
  ASSERT_OK(existed);
  EXPECT_FALSE(*existed);
}

TEST_F(SandboxManagerTest, RestartedManagerRecoversSandboxesFromMetadata) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  ASSERT_OK(manager_->ResetSandbox(Spec().sandbox_id(), 2, true));
  Restart(&fake_);
  auto st = manager_->GetSandbox(Spec().sandbox_id());
  ASSERT_OK(st);
  EXPECT_EQ(st->generation(), 2u);
  EXPECT_EQ(st->candidate(), "cand-1");
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_READY);
  ASSERT_EQ(st->nodes_size(), 2);
  // Another worker's objects are not ours.
  config_.host_id = "host-b";
  Restart(&fake_);
  EXPECT_TRUE(manager_->ListSandboxes().empty());
}

TEST_F(SandboxManagerTest, GuestThatNeverPrintsItsMarkerFailsWithTheNodeNamed) {
  FakeHypervisor silent;  // plays guests that print nothing
  Restart(&silent);
  auto st = manager_->CreateSandbox(Spec(), true);
  ASSERT_OK(st);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_FAILED);
  EXPECT_THAT(st->message(), HasSubstr("server, storage"));
  ASSERT_OK(manager_->DestroySandbox(Spec().sandbox_id()));
}

TEST_F(SandboxManagerTest, DomainStillStartingIsWaitedForNotFailed) {
  HeldDomain starting(&fake_, "-storage", DomainState::kStarting, 3);
  Restart(&starting);
  auto st = manager_->CreateSandbox(Spec(), true);
  ASSERT_OK(st);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->message();
  ASSERT_OK(manager_->DestroySandbox(Spec().sandbox_id()));
}

TEST_F(SandboxManagerTest, PausedDomainFailsTheBuildWithTheNodeNamed) {
  HeldDomain paused(&fake_, "-storage", DomainState::kPaused, 1000);
  Restart(&paused);
  auto st = manager_->CreateSandbox(Spec(), true);
  ASSERT_OK(st);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_FAILED);
  EXPECT_THAT(st->message(), HasSubstr("storage"));
  EXPECT_THAT(st->message(), HasSubstr("paused"));
  ASSERT_OK(manager_->DestroySandbox(Spec().sandbox_id()));
}

}  // namespace
}  // namespace labrack::worker
