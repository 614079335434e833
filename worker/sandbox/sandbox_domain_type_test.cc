// How a worker chooses between KVM and software emulation: the flag's word, one probe with
// a sandbox's own image before the first build, and a move to emulation (with the build
// done again) when a KVM guest fails to start for a reason that points at KVM.
#include "worker/sandbox/sandbox_manager_test_fixture.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

// Fails the start of every domain defined for KVM as qemu does on a nested AMD host.
class KvmAborts : public ForwardingHypervisor {
 public:
  KvmAborts(FakeHypervisor* target, std::string error)
      : ForwardingHypervisor(target), fake_(target), error_(std::move(error)) {}
  absl::Status StartDomain(const std::string& name) override {
    absl::StatusOr<DomainSpec> spec = fake_->DomainDefinition(name);
    if (spec.ok() && spec->type == DomainType::kKvm) return absl::InternalError(error_);
    return ForwardingHypervisor::StartDomain(name);
  }

 private:
  FakeHypervisor* const fake_;
  const std::string error_;
};

constexpr char kKvmAbort[] =
    "start domain lr-0123abcd-server: internal error: qemu unexpectedly closed the monitor: "
    "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: "
    "../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion failed.";

class SandboxDomainType : public SandboxManagerTest {
 protected:
  // --domain-type auto whose probe answers `answer` and counts its calls.
  void UseAuto(DomainType answer) {
    auto choice = DomainTypeChoice::FromFlag("auto", [this, answer](const ProbeGuest& guest) {
      probed_images_.push_back(guest.image);
      return ProbeResult{answer, "stand-in probe"};
    });
    ASSERT_OK(choice);
    config_.domain_type = *std::move(choice);
  }
  DomainType TypeOf(const std::string& domain) {
    absl::StatusOr<DomainSpec> spec = fake_.DomainDefinition(domain);
    EXPECT_OK(spec);
    return spec.ok() ? spec->type : DomainType::kQemu;
  }
  std::vector<std::string> probed_images_;
};

TEST_F(SandboxDomainType, AutoProbesOnceWithTheSandboxsOwnImageBeforeTheFirstBuild) {
  UseAuto(DomainType::kKvm);
  Restart(&fake_);
  EXPECT_THAT(config_.domain_type->reason(), HasSubstr("not probed yet"));
  EXPECT_TRUE(probed_images_.empty());
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  ASSERT_OK(manager_->CreateSandbox(Spec("fedc0000-0000-4000-8000-000000000001"), true));
  EXPECT_EQ(probed_images_, std::vector<std::string>{"tiny"});
  EXPECT_EQ(TypeOf("lr-0123abcd-server"), DomainType::kKvm);
  EXPECT_EQ(TypeOf("lr-fedc0000-storage"), DomainType::kKvm);
}

TEST_F(SandboxDomainType, AProbeThatFailsBuildsWithSoftwareEmulation) {
  UseAuto(DomainType::kQemu);
  Restart(&fake_);
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  EXPECT_EQ(TypeOf("lr-0123abcd-server"), DomainType::kQemu);
  EXPECT_EQ(config_.domain_type->reason(), "stand-in probe");
}

TEST_F(SandboxDomainType, LeavesKvmAndBuildsAgainWhenAKvmGuestAbortsAtStart) {
  UseAuto(DomainType::kKvm);
  KvmAborts hv(&fake_, kKvmAbort);
  Restart(&hv);
  absl::StatusOr<v1::SandboxStatus> st = manager_->CreateSandbox(Spec(), true);
  ASSERT_OK(st);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->message();
  EXPECT_EQ(TypeOf("lr-0123abcd-server"), DomainType::kQemu);
  EXPECT_EQ(config_.domain_type->type(), DomainType::kQemu);
  EXPECT_THAT(config_.domain_type->reason(),
              AllOf(HasSubstr("left KVM"), HasSubstr("failed to set MSR")));
  // Once left, KVM stays left: the next sandbox is emulated from the start.
  ASSERT_OK(manager_->CreateSandbox(Spec("fedc0000-0000-4000-8000-000000000001"), true));
  EXPECT_EQ(TypeOf("lr-fedc0000-server"), DomainType::kQemu);
  EXPECT_EQ(fake_.starts("lr-fedc0000-server"), 1);
}

TEST_F(SandboxDomainType, AResetThatFailsUnderKvmIsDoneAgainUnderEmulation) {
  UseAuto(DomainType::kKvm);
  Restart(&fake_);
  ASSERT_OK(manager_->CreateSandbox(Spec(), true));
  ASSERT_EQ(TypeOf("lr-0123abcd-server"), DomainType::kKvm);
  KvmAborts hv(&fake_, kKvmAbort);
  Restart(&hv);
  absl::StatusOr<v1::SandboxStatus> st = manager_->ResetSandbox(Spec().sandbox_id(), 2, true);
  ASSERT_OK(st);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->message();
  EXPECT_EQ(TypeOf("lr-0123abcd-server"), DomainType::kQemu);
}

TEST_F(SandboxDomainType, AnExplicitKvmFlagIsKeptAndTheBuildFailsCleanly) {
  auto choice = DomainTypeChoice::FromFlag("kvm", nullptr);
  ASSERT_OK(choice);
  config_.domain_type = *std::move(choice);
  KvmAborts hv(&fake_, kKvmAbort);
  Restart(&hv);
  EXPECT_THAT(manager_->CreateSandbox(Spec(), true),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("failed to set MSR")));
  EXPECT_EQ(config_.domain_type->type(), DomainType::kKvm);
  EXPECT_EQ(fake_.domain_count(), 0);
  EXPECT_EQ(fake_.network_count(), 0);
}

TEST_F(SandboxDomainType, FailuresThatDoNotPointAtKvmAreNotRetried) {
  UseAuto(DomainType::kKvm);
  KvmAborts hv(&fake_, "start domain lr-0123abcd-server: Cannot allocate memory");
  Restart(&hv);
  EXPECT_THAT(manager_->CreateSandbox(Spec(), true), StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(config_.domain_type->type(), DomainType::kKvm);
  EXPECT_EQ(fake_.domain_count(), 0);
}

TEST(DomainTypeFlag, RefusesUnknownValuesNamingTheFlag) {
  EXPECT_THAT(DomainTypeChoice::FromFlag("xen", nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--domain-type")));
}

TEST(DomainTypeFlag, AGivenTypeIsNeitherProbedNorLeft) {
  int probes = 0;
  auto count = [&](const ProbeGuest&) {
    ++probes;
    return ProbeResult{DomainType::kQemu, ""};
  };
  auto kvm = DomainTypeChoice::FromFlag("kvm", count);
  ASSERT_OK(kvm);
  (*kvm)->EnsureProbed(ProbeGuest{});
  EXPECT_FALSE((*kvm)->LeaveKvm("kvm: failed"));
  EXPECT_EQ((*kvm)->type(), DomainType::kKvm);
  EXPECT_EQ((*kvm)->reason(), "--domain-type kvm");
  EXPECT_EQ(probes, 0);
}

TEST(DomainTypeFlag, AutoWithoutAnImageToBootStaysUnprobed) {
  int probes = 0;
  auto choice = DomainTypeChoice::FromFlag("auto", [&](const ProbeGuest&) {
    ++probes;
    return ProbeResult{DomainType::kKvm, ""};
  });
  ASSERT_OK(choice);
  (*choice)->EnsureProbed(std::nullopt);
  EXPECT_EQ(probes, 0);
  EXPECT_EQ((*choice)->type(), DomainType::kQemu);
}

TEST(PointsAtKvm, KnowsQemusKvmErrors) {
  EXPECT_TRUE(PointsAtKvm(absl::InternalError(kKvmAbort)));
  EXPECT_TRUE(PointsAtKvm(absl::InternalError("Could not access KVM kernel module")));
  EXPECT_FALSE(PointsAtKvm(absl::InternalError("Cannot allocate memory")));
  EXPECT_FALSE(PointsAtKvm(absl::OkStatus()));
}

}  // namespace
}  // namespace labrack::worker
