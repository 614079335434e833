// A session replaces a candidate's sandbox that FAILED (in-process, controller_test_fixture.h):
// the candidate gets a new sandbox, the failed one is recorded and gone, and the session
// still becomes READY.
#include <mutex>
#include <string>

#include "absl/strings/match.h"
#include "common/names.h"
#include "controller/controller_test_fixture.h"
#include "gmock/gmock.h"

namespace labrack::controller {
namespace {

using ::testing::HasSubstr;

// Every start of a domain of the first sandbox that starts a domain fails: that sandbox's
// builds and its repair all fail, as on a host whose disk broke under it.
class FirstSandboxNeverStarts : public worker::ForwardingHypervisor {
 public:
  using ForwardingHypervisor::ForwardingHypervisor;
  absl::Status StartDomain(const std::string& name) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (doomed_.empty()) doomed_ = name.substr(0, 11);  // lr-<sandbox8>
      if (absl::StartsWith(name, doomed_)) {
        return absl::InternalError("qemu: could not open disk image: Input/output error");
      }
    }
    return ForwardingHypervisor::StartDomain(name);
  }
  std::string doomed() {
    std::lock_guard<std::mutex> lock(mu_);
    return doomed_;
  }

 private:
  std::mutex mu_;
  std::string doomed_;
};

class SessionReplaceTest : public ControllerTest {
 protected:
  std::unique_ptr<worker::Hypervisor> NewWorkerHypervisor() override {
    auto wrapper = std::make_unique<FirstSandboxNeverStarts>(&hv_);
    wrapper_ = wrapper.get();
    return wrapper;
  }

  FirstSandboxNeverStarts* wrapper_ = nullptr;
};

TEST_F(SessionReplaceTest, AFailedCandidateSandboxIsReplacedAndTheSessionBecomesReady) {
  v1::CreateSessionRequest req;
  req.set_name("exam");
  req.set_topology("mini");
  req.add_candidates("c1");
  req.set_duration_seconds(3600);
  v1::Session created;
  ASSERT_OK(Call(&v1::LabController::Stub::CreateSession, req, &created));
  const std::string first = created.candidates(0).sandbox_id();

  ASSERT_TRUE(Eventually([&] { return GetSession("exam").phase() == v1::SESSION_PHASE_READY; },
                         absl::Seconds(60)))
      << GetSession("exam").message();
  EXPECT_EQ(wrapper_->doomed(), DomainName(first, "").substr(0, 11));
  v1::Session ready = GetSession("exam");
  ASSERT_EQ(ready.candidates_size(), 1);
  const v1::SessionCandidate& c = ready.candidates(0);
  EXPECT_EQ(c.replacements(), 1u);
  EXPECT_NE(c.sandbox_id(), first);
  EXPECT_EQ(c.phase(), v1::SANDBOX_PHASE_READY);
  v1::Sandbox now = Get(c.sandbox_id());
  EXPECT_EQ(now.candidate(), "c1");
  EXPECT_EQ(now.session_id(), created.session_id());
  EXPECT_FALSE(now.console_password().empty());
  v1::Sandbox failed = Get(first);
  EXPECT_EQ(failed.phase(), v1::SANDBOX_PHASE_DESTROYED);
  EXPECT_THAT(failed.message(), HasSubstr("the session gave candidate c1 a new sandbox"));
  EXPECT_THAT(failed.message(), HasSubstr("Input/output error"));
}

}  // namespace
}  // namespace labrack::controller
