// Worker logic on FakeHypervisor: what create, reset, destroy and recovery do to the
// hypervisor's objects, without libvirt, and how boot slots queue sandboxes.
#include <thread>

#include "worker/sandbox/sandbox_manager_test_fixture.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

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
  ASSERT_EQ(server->disks[0].backing.size(), 1u);
  EXPECT_FALSE(server->disks[0].backing[0].path.empty());
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

// Observes the manager's sandboxes (as a heartbeat does) right before each domain is
// destroyed, while the old guest still runs and its serial log still holds its marker.
class ObservedBeforeDestroy : public ForwardingHypervisor {
 public:
  using ForwardingHypervisor::ForwardingHypervisor;
  absl::Status DestroyDomain(const std::string& name) override {
    if (manager != nullptr) manager->ListSandboxes();
    return ForwardingHypervisor::DestroyDomain(name);
  }
  SandboxManager* manager = nullptr;
};

TEST_F(SandboxManagerTest, AResetNodeIsReadyOnlyOnceItsNewGuestPrintsItsMarker) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  HeldUntilReleased held(&fake_, DomainName(Spec().sandbox_id(), "server"));
  ObservedBeforeDestroy observed(&held);
  Restart(&observed);
  observed.manager = manager_.get();
  auto st = manager_->ResetSandbox(Spec().sandbox_id(), 2, /*wait_ready=*/false);
  ASSERT_OK(st);
  EXPECT_EQ(st->nodes(0).name(), "server");
  EXPECT_EQ(st->nodes(0).phase(), v1::NODE_PHASE_BOOTING);
  EXPECT_NE(st->phase(), v1::SANDBOX_PHASE_READY);
  held.Release();
  auto ready = manager_->GetSandbox(Spec().sandbox_id());
  ASSERT_OK(ready);
  EXPECT_EQ(ready->nodes(0).phase(), v1::NODE_PHASE_READY);
  observed.manager = nullptr;
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

TEST_F(SandboxManagerTest, DestroyRemovesTheSandboxsBridgesThatNoNetworkUsesAndNoOthers) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), false));
  const std::string bridge = BridgeName(Spec().sandbox_id(), 0);
  const std::string others = BridgeName("0b0b0b0b-0000-4000-8000-000000000001", 0);
  // libvirtd was killed while it stopped the network: the network is gone, its bridge not.
  ASSERT_OK(fake_.DestroyNetwork(NetworkName(Spec().sandbox_id(), "lan")));
  fake_.LeaveBridge(bridge);
  fake_.LeaveBridge(others);
  auto existed = manager_->DestroySandbox(Spec().sandbox_id());
  ASSERT_OK(existed);
  EXPECT_FALSE(fake_.HasBridge(bridge));
  EXPECT_TRUE(fake_.HasBridge(others)) << "another sandbox's bridge";
  // With nothing left of the sandbox but its bridge, a retried destroy still removes it.
  fake_.LeaveBridge(bridge);
  existed = manager_->DestroySandbox(Spec().sandbox_id());
  ASSERT_OK(existed);
  EXPECT_TRUE(*existed);
  EXPECT_FALSE(fake_.HasBridge(bridge));
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

TEST_F(SandboxManagerTest, ObjectsMadeBehindItsBackAreListedAfterTheNextAdoption) {
  // Another process with this host's id makes a sandbox the manager never heard of.
  auto other = SandboxManager::Create(&fake_, images_.get(), config_);
  ASSERT_OK(other);
  ASSERT_OK((*other)->CreateSandbox(Spec(), true));
  EXPECT_TRUE(manager_->ListSandboxes().empty());
  manager_->AdoptStrays();
  std::vector<v1::SandboxStatus> listed = manager_->ListSandboxes();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].sandbox_id(), Spec().sandbox_id());
  // Listed, it can be destroyed like any sandbox.
  ASSERT_OK(manager_->DestroySandbox(Spec().sandbox_id()));
  EXPECT_EQ(fake_.domain_count() + fake_.network_count(), 0);
  // At most once per interval.
  ASSERT_OK((*other)->CreateSandbox(Spec(), true));
  manager_->AdoptStrays();
  EXPECT_TRUE(manager_->ListSandboxes().empty());
  ASSERT_OK((*other)->DestroySandbox(Spec().sandbox_id()));
}

TEST_F(SandboxManagerTest, FoldersOfSandboxesWithNothingLeftInLibvirtAreRemoved) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  const std::string sandboxes = config_.state_dir + "/sandboxes/";
  const std::string stale = sandboxes + "0b0b0b0b-0000-4000-8000-000000000001";
  const std::string fresh = sandboxes + "0c0c0c0c-0000-4000-8000-000000000002";
  std::filesystem::create_directories(stale + "/x");
  std::filesystem::create_directories(fresh);
  std::filesystem::last_write_time(
      stale, std::filesystem::file_time_type::clock::now() - std::chrono::minutes(5));
  manager_->AdoptStrays();
  EXPECT_FALSE(std::filesystem::exists(stale)) << "a folder of a sandbox the host has not";
  EXPECT_TRUE(std::filesystem::exists(fresh)) << "a build may have just made it";
  EXPECT_TRUE(std::filesystem::exists(sandboxes + Spec().sandbox_id())) << "a live sandbox's";
}

TEST_F(SandboxManagerTest, ABridgeNoNetworkUsesGoesOnTheSecondAdoptionThatSeesIt) {
  config_.adopt_interval = absl::ZeroDuration();
  Restart(&fake_);
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  const std::string live = BridgeName(Spec().sandbox_id(), 0);
  const std::string left = BridgeName("0b0b0b0b-0000-4000-8000-000000000001", 0);
  fake_.LeaveBridge(left);
  manager_->AdoptStrays();
  EXPECT_TRUE(fake_.HasBridge(left)) << "seen once: a network may be on its way";
  manager_->AdoptStrays();
  EXPECT_FALSE(fake_.HasBridge(left));
  EXPECT_TRUE(fake_.HasBridge(live)) << "a network uses it";
  // A bridge that a network takes up between two passes stays.
  fake_.LeaveBridge(left);
  manager_->AdoptStrays();
  ASSERT_TRUE(fake_.HasBridge(left));
  v1::SandboxSpec other = Spec("0b0b0b0b-0000-4000-8000-000000000001");
  ASSERT_OK(fake_.CreateNetwork({NetworkName(other.sandbox_id(), "lan"), left, {}}));
  manager_->AdoptStrays();
  EXPECT_TRUE(fake_.HasBridge(left));
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

TEST_F(SandboxManagerTest, ASandboxWaitsForBootSlotsThenBootsWithItsOwnDeadline) {
  config_.boot_slots = 2;  // one two-node sandbox at a time
  const v1::SandboxSpec first = Spec();
  // The first sandbox's guests are up only when the test says so.
  HeldUntilReleased slow(&fake_, DomainName(first.sandbox_id(), ""));
  Restart(&slow);
  const v1::SandboxSpec second = Spec("b0000000-0000-4000-8000-000000000002");
  std::atomic<bool> first_done{false};
  std::thread a([&] {
    EXPECT_OK(manager_->CreateSandbox(first, true));
    first_done = true;
  });
  // Let the first take the slots.
  while (!fake_.DomainDefinition(DomainName(first.sandbox_id(), "server")).ok()) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  absl::StatusOr<v1::SandboxStatus> queued;
  std::thread b([&] { queued = manager_->CreateSandbox(second, true); });
  absl::SleepFor(absl::Milliseconds(100));
  // A repeat of the create (the controller retrying after a restart) waits with it.
  absl::StatusOr<v1::SandboxStatus> repeated;
  std::thread c([&] { repeated = manager_->CreateSandbox(second, true); });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_FALSE(first_done);
  EXPECT_THAT(fake_.DomainDefinition(DomainName(second.sandbox_id(), "server")),
              StatusIs(absl::StatusCode::kNotFound))
      << "the second booted before the first had its guests up";
  auto waiting = manager_->GetSandbox(second.sandbox_id());
  ASSERT_OK(waiting);
  EXPECT_EQ(waiting->phase(), v1::SANDBOX_PHASE_PROVISIONING);
  EXPECT_THAT(waiting->message(), HasSubstr("waiting for its turn to boot"));
  slow.Release();
  a.join();
  b.join();
  c.join();
  ASSERT_OK(queued);
  EXPECT_EQ(queued->phase(), v1::SANDBOX_PHASE_READY) << queued->message();
  ASSERT_OK(repeated);
  EXPECT_EQ(repeated->phase(), v1::SANDBOX_PHASE_READY) << repeated->message();
  ASSERT_OK(manager_->DestroySandbox(first.sandbox_id()));
  ASSERT_OK(manager_->DestroySandbox(second.sandbox_id()));
}

TEST_F(SandboxManagerTest, ASandboxDestroyedWhileItWaitsToBootIsNeverBuilt) {
  config_.boot_slots = 2;
  const v1::SandboxSpec first = Spec();
  HeldUntilReleased slow(&fake_, DomainName(first.sandbox_id(), ""));
  Restart(&slow);
  const v1::SandboxSpec second = Spec("b0000000-0000-4000-8000-000000000002");
  std::thread a([&] { EXPECT_OK(manager_->CreateSandbox(first, true)); });
  while (!fake_.DomainDefinition(DomainName(first.sandbox_id(), "server")).ok()) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  absl::StatusOr<v1::SandboxStatus> queued;
  std::thread b([&] { queued = manager_->CreateSandbox(second, true); });
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_OK(manager_->DestroySandbox(second.sandbox_id()));
  slow.Release();
  a.join();
  b.join();
  EXPECT_THAT(queued, StatusIs(absl::StatusCode::kAborted, HasSubstr("destroyed while it waited")));
  EXPECT_THAT(fake_.DomainDefinition(DomainName(second.sandbox_id(), "server")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(manager_->GetSandbox(second.sandbox_id()), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(manager_->DestroySandbox(first.sandbox_id()));
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
