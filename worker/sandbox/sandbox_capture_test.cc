// Capturing a sandbox on FakeHypervisor: an image per node layered on its image, guests
// paused only while their disks are copied, retries, refusals, and a node booting from a
// captured image on the whole chain. The root overlays are real qcow2 files (qemu-img),
// since capturing rewrites their headers.
#include <filesystem>

#include "worker/host/host_command.h"
#include "worker/sandbox/sandbox_manager_test_fixture.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kVersion[] = "0123abcd-0000-4000-8000-000000000001.1";

// Counts pauses and resumes; fails the pause of domains whose name ends with `fail_suffix`.
class PauseCounter : public ForwardingHypervisor {
 public:
  using ForwardingHypervisor::ForwardingHypervisor;
  absl::Status SuspendDomain(const std::string& name) override {
    if (!fail_suffix.empty() && name.ends_with(fail_suffix)) {
      return absl::UnavailableError("libvirt is gone (injected)");
    }
    ++suspends;
    return ForwardingHypervisor::SuspendDomain(name);
  }
  absl::Status ResumeDomain(const std::string& name) override {
    ++resumes;
    return ForwardingHypervisor::ResumeDomain(name);
  }
  std::atomic<int> suspends = 0;
  std::atomic<int> resumes = 0;
  std::string fail_suffix;
};

class CaptureTest : public SandboxManagerTest {
 protected:
  void SetUp() override {
    SandboxManagerTest::SetUp();
    Restart(&counter_);
    auto st = manager_->CreateSandbox(Spec(), /*wait_ready=*/true);
    ASSERT_OK(st);
    ASSERT_EQ(st->phase(), v1::SANDBOX_PHASE_READY);
    // FakeHypervisor's volumes are stand-ins: make each root overlay a real qcow2 on tiny.
    std::string base = images_->Lookup("tiny")->disk_path;
    for (const char* node : {"server", "storage"}) {
      ASSERT_OK(RunHostCommand({"qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", base, "-F",
                                "qcow2", Root(node), "64M"},
                               absl::Seconds(30)));
    }
  }
  std::string Root(const std::string& node) {
    return config_.state_dir + "/volumes/" + RootVolumeName(Spec().sandbox_id(), node);
  }
  DomainState StateOf(const std::string& domain) {
    absl::StatusOr<DomainInfo> info = fake_.GetDomain(domain);
    return info.ok() ? info->state : DomainState::kOther;
  }
  absl::StatusOr<std::vector<v1::ImageManifest>> Capture(const std::string& prefix = "prep",
                                                         uint64_t generation = 1) {
    return manager_->CaptureSandbox(Spec().sandbox_id(), generation, prefix);
  }
  // Files left in the sandbox's folder besides the serial logs.
  std::vector<std::string> Stray() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(config_.state_dir + "/sandboxes/" +
                                                             Spec().sandbox_id())) {
      if (!e.path().string().ends_with(".serial.log")) out.push_back(e.path().string());
    }
    return out;
  }

  PauseCounter counter_{&fake_};
};

TEST_F(CaptureTest, MakesAnImagePerNodeLayeredOnItsImageAndResumesTheGuests) {
  auto images = Capture();
  ASSERT_OK(images);
  ASSERT_EQ(images->size(), 2u);
  EXPECT_EQ((*images)[0].name(), "prep-server");
  EXPECT_EQ((*images)[1].name(), "prep-storage");
  auto tiny = images_->Lookup("tiny");
  ASSERT_OK(tiny);
  for (const v1::ImageManifest& m : *images) {
    EXPECT_EQ(m.version(), kVersion);
    EXPECT_EQ(m.boot_mode(), tiny->manifest.boot_mode());
    EXPECT_EQ(m.readiness().serial_marker(), tiny->manifest.readiness().serial_marker());
    auto cached = images_->Lookup(m.name());
    ASSERT_OK(cached);
    ASSERT_EQ(cached->backing_chain.size(), 1u) << m.name();
    EXPECT_EQ(cached->backing_chain[0].path, tiny->disk_path);
    EXPECT_EQ(cached->kernel_path, tiny->kernel_path);
  }
  // Every guest was paused once for the copy and runs again; nothing is left behind.
  EXPECT_EQ(counter_.suspends, 2);
  EXPECT_EQ(counter_.resumes, 2);
  EXPECT_EQ(StateOf("lr-0123abcd-server"), DomainState::kRunning);
  EXPECT_EQ(StateOf("lr-0123abcd-storage"), DomainState::kRunning);
  EXPECT_TRUE(Stray().empty()) << Stray()[0];
  auto st = manager_->GetSandbox(Spec().sandbox_id());
  ASSERT_OK(st);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(st->message(), "");
}

TEST_F(CaptureTest, AgainReturnsTheSameImagesWithoutPausingTheGuests) {
  auto first = Capture();
  ASSERT_OK(first);
  auto again = Capture();
  ASSERT_OK(again);
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ((*again)[0].SerializeAsString(), (*first)[0].SerializeAsString());
  EXPECT_EQ((*again)[1].SerializeAsString(), (*first)[1].SerializeAsString());
  EXPECT_EQ(counter_.suspends, 2);
}

TEST_F(CaptureTest, RefusesWhatCannotBeCapturedWithoutPausingAnything) {
  EXPECT_THAT(Capture("prep", 2), StatusIs(absl::StatusCode::kAborted, HasSubstr("generation 1")));
  EXPECT_THAT(manager_->CaptureSandbox("4567abcd", 1, "prep"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Capture("Prep!"), StatusIs(absl::StatusCode::kInvalidArgument,
                                         AllOf(HasSubstr("image_prefix \"Prep!-server\""),
                                               HasSubstr("node server"))));
  ASSERT_OK(images_->ImportFromFolder(
      labrack::testing::WriteFakeImage(root_ + "/x", "taken-storage"), root_ + "/x"));
  EXPECT_THAT(Capture("taken"), StatusIs(absl::StatusCode::kAlreadyExists,
                                         HasSubstr("image \"taken-storage\" exists already")));
  EXPECT_THAT(images_->Lookup("taken-server"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(counter_.suspends, 0);
  ASSERT_OK(manager_->FreezeSandbox(Spec().sandbox_id()));
  EXPECT_THAT(Capture(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                  HasSubstr("only a READY sandbox can be captured")));
}

TEST_F(CaptureTest, AFailedPauseResumesTheOthersAndMakesNoImage) {
  counter_.fail_suffix = "-storage";
  EXPECT_THAT(Capture(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("injected")));
  EXPECT_EQ(StateOf("lr-0123abcd-server"), DomainState::kRunning);
  EXPECT_EQ(counter_.resumes, counter_.suspends.load());
  EXPECT_THAT(images_->Lookup("prep-server"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(Stray().empty()) << Stray()[0];
  counter_.fail_suffix = "";
  ASSERT_OK(Capture());
}

TEST_F(CaptureTest, ANodeOfACapturedImageBootsOnTheWholeChain) {
  ASSERT_OK(Capture());
  v1::SandboxSpec clone = Spec("4567abcd-0000-4000-8000-000000000001");
  clone.mutable_topology()->mutable_nodes(0)->set_image("prep-server");
  ASSERT_OK(manager_->CreateSandbox(clone, /*wait_ready=*/true));
  auto server = fake_.DomainDefinition("lr-4567abcd-server");
  ASSERT_OK(server);
  auto layer = images_->Lookup("prep-server");
  ASSERT_OK(layer);
  EXPECT_THAT(server->disks[0].backing,
              ElementsAre(BackingFile{layer->disk_path, DiskFormat::kQcow2},
                          BackingFile{images_->Lookup("tiny")->disk_path, DiskFormat::kQcow2}));
  ASSERT_OK(manager_->DestroySandbox(clone.sandbox_id()));
}

}  // namespace
}  // namespace labrack::worker
