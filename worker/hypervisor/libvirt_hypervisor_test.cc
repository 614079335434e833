// LibvirtHypervisor against libvirt's test:///default driver: the real libvirt calls and
// XML round trips, without qemu.
#include "worker/hypervisor/libvirt_hypervisor.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

ObjectTag Tag(const std::string& host, const std::string& sandbox, const std::string& node) {
  ObjectTag tag;
  tag.host_id = host;
  tag.sandbox_id = sandbox;
  tag.generation = 3;
  tag.node = node;
  tag.candidate = "cand-<1>&'\"";
  tag.spec_json = R"({"sandboxId":"0123abcd","labels":{"k":"<v>"}})";
  return tag;
}

DomainSpec Domain(const std::string& name, const std::string& host) {
  DomainSpec d;
  d.name = name;
  d.type = DomainType::kQemu;
  d.memory_mib = 64;
  d.disks.push_back({"/default-pool/disk.qcow2", DiskFormat::kQcow2, {}, "vda"});
  d.nics.push_back({"lr-0123abcd-lan", "52:54:00:01:02:03", ""});
  d.tag = Tag(host, "0123abcd-0001", "server");
  return d;
}

class LibvirtTestDriver : public ::testing::Test {
 protected:
  void SetUp() override {
    auto hv = LibvirtHypervisor::Connect("test:///default");
    ASSERT_OK(hv);
    hv_ = *std::move(hv);
  }
  std::unique_ptr<LibvirtHypervisor> hv_;
};

TEST_F(LibvirtTestDriver, UnreachableDaemonIsUnavailable) {
  EXPECT_THAT(LibvirtHypervisor::Connect("qemu+unix:///system?socket=/nonexistent/sock"),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(LibvirtTestDriver, NetworksAreTaggedListedByOwnerAndRemovedTwice) {
  NetworkSpec net{"lr-0123abcd-lan", "lr0123abcd0", Tag("host-a", "0123abcd-0001", ""), 0};
  ASSERT_OK(hv_->CreateNetwork(net));
  EXPECT_THAT(hv_->CreateNetwork(net), StatusIs(absl::StatusCode::kAlreadyExists));
  auto mine = hv_->ListNetworks("host-a");
  ASSERT_OK(mine);
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].bridge, "lr0123abcd0");
  EXPECT_TRUE((*mine)[0].active);
  EXPECT_EQ((*mine)[0].tag, net.tag);
  EXPECT_THAT(*hv_->ListNetworks("host-b"), IsEmpty());
  ASSERT_OK(hv_->DestroyNetwork(net.name));
  ASSERT_OK(hv_->DestroyNetwork(net.name));
  EXPECT_THAT(*hv_->ListNetworks("host-a"), IsEmpty());
}

TEST_F(LibvirtTestDriver, DomainsKeepTheirTagThroughDefineStartStop) {
  NetworkSpec net{"lr-0123abcd-lan", "lr0123abcd0", Tag("host-a", "0123abcd-0001", ""), 0};
  ASSERT_OK(hv_->CreateNetwork(net));
  DomainSpec d = Domain("lr-0123abcd-server", "host-a");
  ASSERT_OK(hv_->DefineDomain(d));
  ASSERT_OK(hv_->StartDomain(d.name));
  ASSERT_OK(hv_->StartDomain(d.name));  // already running is fine
  auto info = hv_->GetDomain(d.name);
  ASSERT_OK(info);
  EXPECT_EQ(info->state, DomainState::kRunning);
  EXPECT_EQ(info->tag, d.tag);
  ASSERT_OK(hv_->SuspendDomain(d.name));
  EXPECT_EQ(hv_->GetDomain(d.name)->state, DomainState::kPaused);
  ASSERT_OK(hv_->ResumeDomain(d.name));
  ASSERT_OK(hv_->StopDomain(d.name));
  EXPECT_EQ(hv_->GetDomain(d.name)->state, DomainState::kShutoff);
  EXPECT_THAT(*hv_->ListDomains("host-a"), ElementsAre(Field(&DomainInfo::name, d.name)));
  EXPECT_THAT(*hv_->ListDomains("host-b"), IsEmpty());
  ASSERT_OK(hv_->DestroyDomain(d.name));
  ASSERT_OK(hv_->DestroyDomain(d.name));
  EXPECT_THAT(hv_->GetDomain(d.name), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(hv_->DestroyNetwork(net.name));
}

TEST_F(LibvirtTestDriver, StopOfUnknownDomainIsNotFound) {
  EXPECT_THAT(hv_->StopDomain("lr-ffffffff-none"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(LibvirtTestDriver, VolumesAreCreatedListedAndDeleted) {
  ASSERT_OK(hv_->EnsurePool("labrack-test", "/labrack-test-pool"));
  ASSERT_OK(hv_->EnsurePool("labrack-test", "/labrack-test-pool"));
  EXPECT_THAT(hv_->EnsurePool("labrack-test", "/elsewhere"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  VolumeSpec blank{"labrack-test", "lr-0123abcd-storage-disk-d0.qcow2", 1ull << 30, "",
                   DiskFormat::kQcow2};
  auto path = hv_->CreateVolume(blank);
  ASSERT_OK(path);
  EXPECT_EQ(*path, "/labrack-test-pool/lr-0123abcd-storage-disk-d0.qcow2");
  EXPECT_THAT(hv_->CreateVolume(blank), StatusIs(absl::StatusCode::kAlreadyExists));
  auto vols = hv_->ListVolumes("labrack-test");
  ASSERT_OK(vols);
  ASSERT_EQ(vols->size(), 1u);
  EXPECT_EQ((*vols)[0].capacity_bytes, 1ull << 30);
  ASSERT_OK(hv_->DeleteVolume("labrack-test", blank.name));
  ASSERT_OK(hv_->DeleteVolume("labrack-test", blank.name));
  EXPECT_THAT(*hv_->ListVolumes("labrack-test"), IsEmpty());
  ASSERT_OK(hv_->RemovePool("labrack-test"));
  ASSERT_OK(hv_->RemovePool("labrack-test"));
}

// The test driver's guests have no taps: the host's nftables are left alone, but a spec
// is checked as on a real host.
TEST_F(LibvirtTestDriver, PortFiltersAreValidatedButNotWritten) {
  PortFilterSpec spec{"0123abcd-0001", "host-a", {{"lr0123abcdv0000", "52:54:00:01:02:03", "10.0.0.1"}}};
  EXPECT_OK(hv_->ApplyPortFilter(spec));
  EXPECT_THAT(hv_->ListPortFilters(), IsOkAndHolds(IsEmpty()));
  EXPECT_OK(hv_->RemovePortFilter(spec.sandbox_id));
  spec.ports[0].ip = "10.0.0.1; flush ruleset";
  EXPECT_THAT(hv_->ApplyPortFilter(spec), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(hv_->RemovePortFilter("x"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LibvirtTestDriver, ReportsHostResources) {
  auto res = hv_->GetHostResources();
  ASSERT_OK(res);
  EXPECT_GT(res->cpus, 0u);
  EXPECT_GT(res->memory_mib, 0u);
}

}  // namespace
}  // namespace labrack::worker
