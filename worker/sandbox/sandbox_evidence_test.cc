// Freezing a sandbox and reading its evidence, on FakeHypervisor: which guests are paused,
// which files are listed (named by the plan only) and how they are read.
#include <thread>

#include "worker/sandbox/sandbox_manager_test_fixture.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

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

TEST_F(FrozenSandboxTest, ASandboxFrozenWhileItWaitsToBootNeverStarts) {
  config_.boot_slots = 2;
  const v1::SandboxSpec first = Spec();
  HeldUntilReleased slow(&fake_, DomainName(first.sandbox_id(), ""));
  Restart(&slow);
  std::thread a([&] { EXPECT_OK(manager_->CreateSandbox(first, true)); });
  while (!fake_.DomainDefinition(DomainName(first.sandbox_id(), "server")).ok()) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  const v1::SandboxSpec second = Spec("b0000000-0000-4000-8000-000000000002");
  absl::StatusOr<v1::SandboxStatus> queued;
  std::thread b([&] { queued = manager_->CreateSandbox(second, true); });
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_OK(manager_->FreezeSandbox(second.sandbox_id()));  // the session ended meanwhile
  slow.Release();
  a.join();
  b.join();
  EXPECT_THAT(queued, StatusIs(absl::StatusCode::kAborted, HasSubstr("FROZEN while it waited")));
  EXPECT_THAT(fake_.DomainDefinition(DomainName(second.sandbox_id(), "server")),
              StatusIs(absl::StatusCode::kNotFound))
      << "a guest started after its session ended";
  ASSERT_OK(manager_->DestroySandbox(first.sandbox_id()));
  ASSERT_OK(manager_->DestroySandbox(second.sandbox_id()));
}

}  // namespace
}  // namespace labrack::worker
