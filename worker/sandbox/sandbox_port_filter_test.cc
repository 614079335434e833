// The sandbox's anti-spoofing port filter on FakeHypervisor: made before any guest of a
// build starts, made whole again by a reset, gone with the sandbox, and removed by the
// periodic adoption pass when its sandbox is unknown to this worker (and only then).
#include "worker/sandbox/sandbox_manager_test_fixture.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Records, at each domain start, whether the sandbox's port filter was in place.
class FilterAtStart : public ForwardingHypervisor {
 public:
  explicit FilterAtStart(FakeHypervisor* fake) : ForwardingHypervisor(fake), fake_(fake) {}
  absl::Status StartDomain(const std::string& name) override {
    absl::StatusOr<PortFilterSpec> filter = fake_->PortFilter(Spec().sandbox_id());
    if (!filter.ok() || filter->ports.empty()) {
      absl::MutexLock lock(&mu_);
      unfiltered_.push_back(name);
    }
    return ForwardingHypervisor::StartDomain(name);
  }
  std::vector<std::string> unfiltered() {
    absl::MutexLock lock(&mu_);
    return unfiltered_;
  }

 private:
  FakeHypervisor* const fake_;
  absl::Mutex mu_;
  std::vector<std::string> unfiltered_;
};

TEST_F(SandboxManagerTest, EveryGuestIsFilteredFromItsFirstStartOnItsOwnTapMacAndAddress) {
  FilterAtStart hv(&fake_);
  Restart(&hv);
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  EXPECT_THAT(hv.unfiltered(), IsEmpty()) << "a guest started before its port filter existed";
  absl::StatusOr<PortFilterSpec> filter = fake_.PortFilter(Spec().sandbox_id());
  ASSERT_OK(filter);
  EXPECT_EQ(filter->host_id, "host-a");
  absl::StatusOr<DomainSpec> server = fake_.DomainDefinition("lr-0123abcd-server");
  absl::StatusOr<DomainSpec> storage = fake_.DomainDefinition("lr-0123abcd-storage");
  ASSERT_OK(server);
  ASSERT_OK(storage);
  // The tap the domain is given is the one the rules name.
  EXPECT_THAT(filter->ports,
              ElementsAre(PortGuard{"lr0123abcdv0000", server->nics[0].mac, "10.10.1.1"},
                          PortGuard{"lr0123abcdv0100", storage->nics[0].mac, "10.10.1.2"}));
  EXPECT_EQ(server->nics[0].tap, "lr0123abcdv0000");
  EXPECT_EQ(storage->nics[0].tap, "lr0123abcdv0100");
}

TEST_F(SandboxManagerTest, NodesThatForwardOthersFramesAreNotFiltered) {
  v1::SandboxSpec spec = Spec();
  spec.mutable_topology()->mutable_nodes(1)->set_role(v1::NODE_ROLE_SWITCH);
  ASSERT_OK(manager_->CreateSandbox(spec, true));
  absl::StatusOr<PortFilterSpec> filter = fake_.PortFilter(spec.sandbox_id());
  ASSERT_OK(filter);
  ASSERT_EQ(filter->ports.size(), 1u);
  EXPECT_EQ(filter->ports[0].ip, "10.10.1.1");
}

TEST_F(SandboxManagerTest, AResetPutsBackAPortFilterThatWasLost) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  absl::StatusOr<PortFilterSpec> before = fake_.PortFilter(Spec().sandbox_id());
  ASSERT_OK(before);
  ASSERT_OK(fake_.RemovePortFilter(Spec().sandbox_id()));
  ASSERT_OK(manager_->ResetSandbox(Spec().sandbox_id(), 2, true, {"server"}));
  EXPECT_THAT(fake_.PortFilter(Spec().sandbox_id()), IsOkAndHolds(*before));
}

TEST_F(SandboxManagerTest, DestroyRemovesThePortFilterEvenWhenNothingElseIsLeft) {
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  ASSERT_OK(manager_->DestroySandbox(Spec().sandbox_id()));
  EXPECT_EQ(fake_.port_filter_count(), 0);
  // A worker killed during a destroy left only the filter: a retried destroy finds it.
  PortFilterSpec left{Spec().sandbox_id(), "host-a", {}};
  ASSERT_OK(fake_.ApplyPortFilter(left));
  EXPECT_THAT(manager_->DestroySandbox(Spec().sandbox_id()), IsOkAndHolds(true));
  EXPECT_EQ(fake_.port_filter_count(), 0);
}

TEST_F(SandboxManagerTest, AdoptionRemovesPortFiltersOfUnknownSandboxesOfThisHostOnly) {
  config_.adopt_interval = absl::ZeroDuration();
  Restart(&fake_);
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  const std::string stray = "0b0b0b0b-0000-4000-8000-000000000001";
  const std::string others = "0c0c0c0c-0000-4000-8000-000000000002";
  ASSERT_OK(fake_.ApplyPortFilter({stray, "host-a", {}}));
  ASSERT_OK(fake_.ApplyPortFilter({others, "host-b", {}}));
  manager_->AdoptStrays();
  EXPECT_THAT(fake_.PortFilter(stray), labrack::testing::StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(fake_.PortFilter(others)) << "another worker's sandbox on the same host";
  EXPECT_OK(fake_.PortFilter(Spec().sandbox_id())) << "a live sandbox's";
  ASSERT_OK(manager_->DestroySandbox(Spec().sandbox_id()));
  ASSERT_OK(fake_.RemovePortFilter(others));
}

}  // namespace
}  // namespace labrack::worker
