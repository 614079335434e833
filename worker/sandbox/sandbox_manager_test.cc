// Worker logic on FakeHypervisor: what create, reset, destroy and recovery do to the
// hypervisor's objects, without libvirt.
#include "worker/sandbox/sandbox_manager.h"

#include <google/protobuf/text_format.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/names.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"
#include "worker/hypervisor/fake_hypervisor.h"
#include "worker/hypervisor/forwarding_hypervisor.h"
#include "worker/sandbox/sandbox_plan.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::IsOkAndHolds;
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

// Guests whose domain names start with `prefix` print their readiness marker only when the
// test releases them.
class HeldUntilReleased : public ForwardingHypervisor {
 public:
  HeldUntilReleased(FakeHypervisor* target, std::string prefix)
      : ForwardingHypervisor(target), fake_(target), prefix_(std::move(prefix)) {}
  absl::Status StartDomain(const std::string& name) override {
    RETURN_IF_ERROR(ForwardingHypervisor::StartDomain(name));
    absl::MutexLock lock(&mu_);
    if (!name.starts_with(prefix_) || released_) return absl::OkStatus();
    absl::StatusOr<DomainSpec> spec = fake_->DomainDefinition(name);
    RETURN_IF_ERROR(spec.status());
    std::ofstream(spec->serial_log, std::ios::trunc) << "booting\r\n";
    held_.push_back(*spec);
    return absl::OkStatus();
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
    for (const DomainSpec& spec : held_) {
      std::ofstream(spec.serial_log, std::ios::app) << "LABRACK-READY node=" << spec.tag.node << "\r\n";
    }
  }

 private:
  FakeHypervisor* const fake_;
  const std::string prefix_;
  absl::Mutex mu_;
  bool released_ = false;
  std::vector<DomainSpec> held_;
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

// ---- freeze and evidence ----

// Freezing the mini sandbox and reading its evidence.
class FrozenSandboxTest : public SandboxManagerTest {
 protected:
  std::string Volume(const std::string& name) { return config_.state_dir + "/volumes/" + name; }
  // FakeHypervisor makes no volume files: write them where the plan puts them.
  void WriteFile(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  }
  void WriteDisks() {
    const std::string id = Spec().sandbox_id();
    WriteFile(Volume(RootVolumeName(id, "server")), server_root_);
    WriteFile(Volume(RootVolumeName(id, "storage")), "storage root");
    WriteFile(Volume(DiskVolumeName(id, "storage", "d0")), std::string(1536 << 10, 'x'));
    WriteFile(Volume(DiskVolumeName(id, "storage", "d1")), "d1");
  }
  DomainState StateOf(const std::string& domain) {
    absl::StatusOr<DomainInfo> info = fake_.GetDomain(domain);
    return info.ok() ? info->state : DomainState::kOther;
  }

  const std::string server_root_ = [] {
    std::string s;
    for (int i = 0; s.size() < 3000; ++i) s += std::to_string(i) + ",";
    return s.substr(0, 3000);
  }();
};

TEST_F(FrozenSandboxTest, FreezePausesEveryDomainAndReportsFrozenUntilDestroyed) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  auto st = manager_->FreezeSandbox(Spec().sandbox_id());
  ASSERT_OK(st);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_FROZEN) << st->message();
  EXPECT_EQ(StateOf("lr-0123abcd-server"), DomainState::kPaused);
  EXPECT_EQ(StateOf("lr-0123abcd-storage"), DomainState::kPaused);
  // Again: fine, and it stays frozen whoever looks, also past the readiness deadline.
  ASSERT_OK(manager_->FreezeSandbox(Spec().sandbox_id()));
  absl::SleepFor(config_.ready_timeout);
  EXPECT_EQ(manager_->GetSandbox(Spec().sandbox_id())->phase(), v1::SANDBOX_PHASE_FROZEN);
  ASSERT_EQ(manager_->ListSandboxes().size(), 1u);
  EXPECT_EQ(manager_->ListSandboxes()[0].phase(), v1::SANDBOX_PHASE_FROZEN);
  EXPECT_EQ(manager_->CreateSandbox(Spec(), true)->phase(), v1::SANDBOX_PHASE_FROZEN);
  EXPECT_EQ(StateOf("lr-0123abcd-server"), DomainState::kPaused);
  ASSERT_OK(manager_->DestroySandbox(Spec().sandbox_id()));
  EXPECT_EQ(fake_.domain_count(), 0);
}

TEST_F(FrozenSandboxTest, FreezePausesHiddenLinkEmulatorsToo) {
  const std::string src = root_ + "/src-linkemu";
  ASSERT_OK(images_->ImportFromFolder(labrack::testing::WriteFakeImage(src, "linkemu"), src));
  ASSERT_OK(manager_->CreateSandbox(ShapedSpec(), true));  // no netem here: one emulator
  ASSERT_EQ(fake_.domain_count(), 3);
  ASSERT_OK(manager_->FreezeSandbox(ShapedSpec().sandbox_id()));
  auto domains = fake_.ListDomains("host-a");
  ASSERT_OK(domains);
  for (const DomainInfo& d : *domains) EXPECT_EQ(d.state, DomainState::kPaused) << d.name;
}

TEST_F(FrozenSandboxTest, FreezeOfAnUnknownSandboxIsNotFound) {
  EXPECT_THAT(manager_->FreezeSandbox(Spec().sandbox_id()), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(manager_->ListEvidence(Spec().sandbox_id()), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(manager_->ReadEvidence(Spec().sandbox_id(), "disks/server.qcow2", 0, 0),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(FrozenSandboxTest, FreezeDuringACreateThatWaitsForReadinessLeavesItFrozenNotFailed) {
  FakeHypervisor silent;  // guests that never get ready: the create waits until the deadline
  Restart(&silent);
  absl::StatusOr<v1::SandboxStatus> created;
  std::thread create([&] { created = manager_->CreateSandbox(Spec(), true); });
  while (silent.starts("lr-0123abcd-server") == 0 || silent.starts("lr-0123abcd-storage") == 0) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  auto st = manager_->FreezeSandbox(Spec().sandbox_id());
  create.join();
  ASSERT_OK(st);
  ASSERT_OK(created);
  EXPECT_EQ(created->phase(), v1::SANDBOX_PHASE_FROZEN) << created->message();
  EXPECT_EQ(manager_->GetSandbox(Spec().sandbox_id())->phase(), v1::SANDBOX_PHASE_FROZEN);
  ASSERT_OK(manager_->DestroySandbox(Spec().sandbox_id()));
}

TEST_F(FrozenSandboxTest, ResetOfAFrozenSandboxIsRefused) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  ASSERT_OK(manager_->FreezeSandbox(Spec().sandbox_id()));
  EXPECT_THAT(manager_->ResetSandbox(Spec().sandbox_id(), 2, true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("frozen")));
  EXPECT_THAT(manager_->ResetSandbox(Spec().sandbox_id(), 2, false, {"server"}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("frozen")));
  EXPECT_EQ(fake_.starts("lr-0123abcd-server"), 1);
  EXPECT_EQ(StateOf("lr-0123abcd-server"), DomainState::kPaused);
}

TEST_F(FrozenSandboxTest, EvidenceIsRefusedUntilTheSandboxIsFrozen) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  WriteDisks();
  EXPECT_THAT(manager_->ListEvidence(Spec().sandbox_id()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(manager_->ReadEvidence(Spec().sandbox_id(), "disks/server.qcow2", 0, 0),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(FrozenSandboxTest, ListEvidenceNamesEachNodesDisksAndLogWithSizes) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  ASSERT_OK(manager_->FreezeSandbox(Spec().sandbox_id()));
  WriteDisks();
  auto files = manager_->ListEvidence(Spec().sandbox_id());
  ASSERT_OK(files);
  std::vector<std::string> names;
  for (const v1::EvidenceFile& f : *files) names.push_back(f.name());
  EXPECT_THAT(names, ::testing::ElementsAre("disks/server.qcow2", "serial/server.log",
                                            "disks/storage.qcow2", "disks/storage-d0.qcow2",
                                            "disks/storage-d1.qcow2", "serial/storage.log"));
  ASSERT_EQ(files->size(), 6u);
  auto image = images_->Lookup("tiny");
  ASSERT_OK(image);
  std::string disk_sha;
  for (const v1::ImageArtifact& a : image->manifest.artifacts()) {
    if (a.kind() == v1::ARTIFACT_KIND_DISK) disk_sha = a.sha256();
  }
  const v1::EvidenceFile& root = (*files)[0];
  EXPECT_EQ(root.kind(), v1::EVIDENCE_KIND_DISK);
  EXPECT_EQ(root.node(), "server");
  EXPECT_EQ(root.format(), "qcow2");
  EXPECT_EQ(root.size_bytes(), 3000u);
  EXPECT_EQ(root.base_image(), "tiny");
  EXPECT_EQ(root.base_image_sha256(), disk_sha);
  EXPECT_FALSE(disk_sha.empty());
  const v1::EvidenceFile& d0 = (*files)[3];
  EXPECT_EQ(d0.kind(), v1::EVIDENCE_KIND_DISK);
  EXPECT_EQ(d0.node(), "storage");
  EXPECT_EQ(d0.size_bytes(), 1536u << 10);
  EXPECT_EQ(d0.base_image(), "");
  EXPECT_EQ(d0.base_image_sha256(), "");
  const v1::EvidenceFile& log = (*files)[1];
  EXPECT_EQ(log.kind(), v1::EVIDENCE_KIND_SERIAL_LOG);
  EXPECT_EQ(log.node(), "server");
  EXPECT_EQ(log.size_bytes(),
            std::filesystem::file_size(SerialLogPath(
                config_.state_dir + "/sandboxes/" + Spec().sandbox_id(), "server")));
  EXPECT_GT(log.size_bytes(), 0u);
}

TEST_F(FrozenSandboxTest, ListEvidenceWithADiskFileMissingIsDataLoss) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  ASSERT_OK(manager_->FreezeSandbox(Spec().sandbox_id()));
  WriteDisks();
  std::filesystem::remove(Volume(DiskVolumeName(Spec().sandbox_id(), "storage", "d1")));
  EXPECT_THAT(manager_->ListEvidence(Spec().sandbox_id()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("storage-d1")));
}

TEST_F(FrozenSandboxTest, ReadEvidenceReadsFromOffsetsAtMostAMebibyteAndEndsEmpty) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  ASSERT_OK(manager_->FreezeSandbox(Spec().sandbox_id()));
  WriteDisks();
  const std::string id = Spec().sandbox_id();
  EXPECT_THAT(manager_->ReadEvidence(id, "disks/server.qcow2", 0, 100),
              IsOkAndHolds(server_root_.substr(0, 100)));
  EXPECT_THAT(manager_->ReadEvidence(id, "disks/server.qcow2", 1234, 0),
              IsOkAndHolds(server_root_.substr(1234)));
  EXPECT_THAT(manager_->ReadEvidence(id, "disks/server.qcow2", 2950, 100),
              IsOkAndHolds(server_root_.substr(2950)));
  EXPECT_THAT(manager_->ReadEvidence(id, "disks/server.qcow2", 3000, 100), IsOkAndHolds(""));
  EXPECT_THAT(manager_->ReadEvidence(id, "disks/server.qcow2", uint64_t{1} << 62, 0),
              IsOkAndHolds(""));
  EXPECT_THAT(manager_->ReadEvidence(id, "disks/storage-d1.qcow2", 0, 0), IsOkAndHolds("d1"));
  auto big = manager_->ReadEvidence(id, "disks/storage-d0.qcow2", 0, 0);
  ASSERT_OK(big);
  EXPECT_EQ(big->size(), kMaxEvidenceReadBytes);
  big = manager_->ReadEvidence(id, "disks/storage-d0.qcow2", 0, 8 << 20);
  ASSERT_OK(big);
  EXPECT_EQ(big->size(), kMaxEvidenceReadBytes);
  big = manager_->ReadEvidence(id, "disks/storage-d0.qcow2", kMaxEvidenceReadBytes, 0);
  ASSERT_OK(big);
  EXPECT_EQ(*big, std::string(512 << 10, 'x'));
  EXPECT_THAT(manager_->ReadEvidence(id, "serial/storage.log", 0, 0),
              IsOkAndHolds(HasSubstr("LABRACK-READY node=storage")));
}

TEST_F(FrozenSandboxTest, ReadEvidenceOfANameItDidNotListIsNotFound) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  ASSERT_OK(manager_->FreezeSandbox(Spec().sandbox_id()));
  WriteDisks();
  // Each of these reaches a real file when joined onto the sandbox or volume folder.
  const std::string id = Spec().sandbox_id();
  for (const std::string& name :
       {std::string("serial/../serial/server.log"), std::string("disks/../serial/server.log"),
        std::string("../../volumes/") + RootVolumeName(id, "server"), RootVolumeName(id, "server"),
        std::string("serial/server.log/"), std::string("/etc/hostname"), std::string(""),
        std::string("disks/switch.qcow2"), std::string("DISKS/server.qcow2")}) {
    EXPECT_THAT(manager_->ReadEvidence(id, name, 0, 0), StatusIs(absl::StatusCode::kNotFound))
        << name;
  }
}

TEST_F(FrozenSandboxTest, RestartedManagerKeepsAFrozenSandboxFrozen) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  ASSERT_OK(manager_->FreezeSandbox(Spec().sandbox_id()));
  WriteDisks();
  Restart(&fake_);
  auto st = manager_->GetSandbox(Spec().sandbox_id());
  ASSERT_OK(st);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_FROZEN);
  EXPECT_OK(manager_->ListEvidence(Spec().sandbox_id()));
  EXPECT_THAT(manager_->ResetSandbox(Spec().sandbox_id(), 2, false),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace labrack::worker
