// Capture and clone through the controller in-process, over a FakeHypervisor whose root
// overlays are made real qcow2 files (capturing rewrites their headers): the captured
// images land in the controller's store, a clone's nodes each boot from their own node's
// layer, a repeated request makes nothing new, and what cannot be done is refused with
// nothing made. The real guests are in tests/e2e/capture_e2e_test.
#include <filesystem>

#include "common/names.h"
#include "controller/controller_test_fixture.h"
#include "gmock/gmock.h"
#include "worker/host/host_command.h"
#include "worker/sandbox/sandbox_plan.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class CaptureCloneTest : public ControllerTest {
 protected:
  void SetUp() override {
    ControllerTest::SetUp();
    if (HasFatalFailure()) return;
    auto s = Create("mini");
    ASSERT_OK(s);
    source_ = s->sandbox_id();
    ASSERT_TRUE(WaitPhase(source_, v1::SANDBOX_PHASE_READY));
    ASSERT_NO_FATAL_FAILURE(MakeOverlaysReal(source_));
  }

  // FakeHypervisor's volumes are stand-ins: makes each root overlay of sandbox `id` a real
  // qcow2 on tiny with 64 KiB written, a pattern of its own per node.
  void MakeOverlaysReal(const std::string& id) {
    std::string base = worker_->images().Lookup("tiny")->disk_path;
    int pattern = 0x10;
    for (const char* node : {"server", "storage"}) {
      std::string root = absl::StrCat(root_, "/worker/volumes/", worker::RootVolumeName(id, node));
      ASSERT_TRUE(std::filesystem::exists(root)) << root;
      // Written before it names its base: the fake base's header is all qemu could open.
      ASSERT_OK(worker::RunHostCommand({"qemu-img", "create", "-q", "-f", "qcow2", root, "64M"},
                                       absl::Seconds(30)));
      ASSERT_OK(worker::RunHostCommand(
          {"qemu-io", "-f", "qcow2", "-c", absl::StrCat("write -P ", ++pattern, " 0 64k"), root},
          absl::Seconds(30)));
      ASSERT_OK(worker::RunHostCommand(
          {"qemu-img", "rebase", "-u", "-f", "qcow2", "-b", base, "-F", "qcow2", root},
          absl::Seconds(30)));
    }
  }

  absl::StatusOr<v1::CaptureSandboxResponse> Capture(const std::string& id,
                                                     const std::string& image) {
    v1::CaptureSandboxRequest req;
    req.set_sandbox_id(id);
    req.set_image(image);
    v1::CaptureSandboxResponse resp;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::CaptureSandbox, req, &resp));
    return resp;
  }

  absl::StatusOr<v1::CloneSandboxResponse> Clone(const std::string& id, uint32_t count,
                                                 const std::string& request_id = "") {
    v1::CloneSandboxRequest req;
    req.set_sandbox_id(id);
    req.set_count(count);
    req.set_request_id(request_id);
    (*req.mutable_labels())["class"] = "2b";
    v1::CloneSandboxResponse resp;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::CloneSandbox, req, &resp));
    return resp;
  }

  int SandboxCount() {
    v1::ListSandboxesResponse resp;
    EXPECT_OK(Call(&v1::LabController::Stub::ListSandboxes, v1::ListSandboxesRequest(), &resp));
    return resp.sandboxes_size();
  }

  std::string source_;
};

TEST_F(CaptureCloneTest, CaptureBringsALayerPerNodeIntoTheControllersStore) {
  auto captured = Capture(source_, "prep");
  ASSERT_OK(captured);
  ASSERT_EQ(captured->images_size(), 2);
  const std::string tiny_disk = worker::DiskArtifact(manifest_).sha256();
  for (int i = 0; i < 2; ++i) {
    const v1::ImageManifest& m = captured->images(i).manifest();
    EXPECT_EQ(m.name(), i == 0 ? "prep-server" : "prep-storage");
    EXPECT_EQ(m.version(), absl::StrCat(source_, ".1"));
    EXPECT_FALSE(captured->images(i).already_present());
    bool on_tiny = false;
    for (const v1::ImageArtifact& a : m.artifacts()) {
      on_tiny |= a.kind() == v1::ARTIFACT_KIND_BACKING_DISK && a.sha256() == tiny_disk;
    }
    EXPECT_TRUE(on_tiny) << m.DebugString();
  }
  v1::ListImagesResponse images;
  ASSERT_OK(Call(&v1::LabController::Stub::ListImages, v1::ListImagesRequest(), &images));
  EXPECT_THAT(images.images(), SizeIs(3));
  // Again: the same images, no bytes moved.
  auto again = Capture(source_, "prep");
  ASSERT_OK(again);
  ASSERT_EQ(again->images_size(), 2);
  EXPECT_TRUE(again->images(0).already_present());
  EXPECT_EQ(again->images(0).manifest().SerializeAsString(),
            captured->images(0).manifest().SerializeAsString());
  EXPECT_EQ(Get(source_).phase(), v1::SANDBOX_PHASE_READY);
}

TEST_F(CaptureCloneTest, ClonesBootEachNodeFromItsOwnNodesLayerAndARepeatMakesNothingNew) {
  auto clones = Clone(source_, 2, "class-2b");
  ASSERT_OK(clones);
  ASSERT_EQ(clones->sandboxes_size(), 2);
  ASSERT_EQ(clones->images_size(), 2);
  for (const v1::Sandbox& clone : clones->sandboxes()) {
    SCOPED_TRACE(clone.sandbox_id());
    EXPECT_EQ(clone.cloned_from(), source_);
    EXPECT_EQ(clone.labels().at("class"), "2b");
    EXPECT_EQ(clone.topology(), "mini");
    EXPECT_FALSE(clone.console_password().empty());
    ASSERT_TRUE(WaitPhase(clone.sandbox_id(), v1::SANDBOX_PHASE_READY));
    for (int i = 0; i < 2; ++i) {
      const v1::ImageManifest& layer = clones->images(i).manifest();
      const std::string node = i == 0 ? "server" : "storage";
      EXPECT_EQ(layer.name(), absl::StrCat(ClonePrefix(Get(source_)), "-", node));
      auto domain = hv_.DomainDefinition(DomainName(clone.sandbox_id(), node));
      ASSERT_OK(domain);
      ASSERT_THAT(domain->disks[0].backing, SizeIs(2));
      EXPECT_THAT(domain->disks[0].backing[0].path,
                  HasSubstr(worker::DiskArtifact(layer).sha256()));
    }
  }
  // The same request: the same clones, nothing new.
  auto again = Clone(source_, 2, "class-2b");
  ASSERT_OK(again);
  ASSERT_EQ(again->sandboxes_size(), 2);
  EXPECT_EQ(again->sandboxes(1).sandbox_id(), clones->sandboxes(1).sandbox_id());
  EXPECT_EQ(SandboxCount(), 3);
  EXPECT_THAT(Clone(source_, 3, "class-2b"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("other than 3")));
  // A clone is a sandbox like any other: it can itself be cloned.
  ASSERT_NO_FATAL_FAILURE(MakeOverlaysReal(clones->sandboxes(0).sandbox_id()));
  auto grandchild = Clone(clones->sandboxes(0).sandbox_id(), 1);
  ASSERT_OK(grandchild);
  EXPECT_EQ(grandchild->sandboxes(0).cloned_from(), clones->sandboxes(0).sandbox_id());
}

TEST_F(CaptureCloneTest, RefusesWhatCannotBeDoneAndMakesNothing) {
  EXPECT_THAT(Capture(source_, "Prep!"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("image")));
  EXPECT_THAT(Capture("0123abcd-0000-4000-8000-00000000ffff", "prep"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Clone(source_, 0), StatusIs(absl::StatusCode::kInvalidArgument, "count: 1 to 64, not 0"));
  EXPECT_THAT(Clone(source_, 65), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("count")));
  EXPECT_THAT(Clone(source_, 1, std::string(57, 'r')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  // More clones than the host holds: none is made.
  EXPECT_THAT(Clone(source_, 64), StatusIs(absl::StatusCode::kResourceExhausted,
                                           HasSubstr("none was made")));
  EXPECT_EQ(SandboxCount(), 1);
  // A name another capture holds.
  ASSERT_OK(Capture(source_, "prep"));
  v1::ResetSandboxRequest reset;
  reset.set_sandbox_id(source_);
  v1::Sandbox after;
  ASSERT_OK(Call(&v1::LabController::Stub::ResetSandbox, reset, &after));
  // Not READY while it resets.
  EXPECT_THAT(Capture(source_, "other"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("only a READY sandbox")));
  ASSERT_TRUE(WaitPhase(source_, v1::SANDBOX_PHASE_READY));
  EXPECT_THAT(Capture(source_, "prep"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("'prep-server' exists already")));
  v1::ListImagesResponse images;
  ASSERT_OK(Call(&v1::LabController::Stub::ListImages, v1::ListImagesRequest(), &images));
  EXPECT_THAT(images.images(), SizeIs(1 + 2 + 2));  // tiny, prep-*, the refused clone's
}

}  // namespace
}  // namespace labrack::controller
