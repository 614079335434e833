// A mutating call sent 5 times at once with the same request id, as a client retrying
// through a flaky network would: exactly one effect, and the same answer to every call.
// In-process controller on the fake hypervisor, real gRPC. Destroy needs no request id:
// five at once leave one sandbox DESTROYED and every call answered OK.
#include <thread>

#include "common/proto_time.h"
#include "controller/controller_test_fixture.h"

namespace labrack::controller {
namespace {

constexpr int kCalls = 5;

// Runs `call` kCalls times at once and returns the answers.
template <typename Resp>
std::vector<absl::StatusOr<Resp>> AllAtOnce(const std::function<absl::StatusOr<Resp>()>& call) {
  std::vector<absl::StatusOr<Resp>> answers(kCalls, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) threads.emplace_back([&, i] { answers[i] = call(); });
  for (std::thread& t : threads) t.join();
  return answers;
}

class IdempotencyTest : public ControllerTest {
 protected:
  std::vector<v1::Sandbox> Sandboxes() {
    v1::ListSandboxesRequest req;
    req.set_include_destroyed(true);
    v1::ListSandboxesResponse resp;
    EXPECT_OK(Call(&v1::LabController::Stub::ListSandboxes, req, &resp));
    return {resp.sandboxes().begin(), resp.sandboxes().end()};
  }
};

TEST_F(IdempotencyTest, FiveConcurrentCreatesWithOneRequestIdMakeOneSandbox) {
  auto answers = AllAtOnce<v1::Sandbox>([&]() -> absl::StatusOr<v1::Sandbox> {
    return Create("mini", "retry-1");
  });
  for (const auto& a : answers) {
    ASSERT_OK(a);
    EXPECT_EQ(a->sandbox_id(), answers[0]->sandbox_id());
  }
  EXPECT_EQ(Sandboxes().size(), 1u);
}

TEST_F(IdempotencyTest, FiveConcurrentSessionCreatesWithOneRequestIdMakeOneSession) {
  auto answers = AllAtOnce<v1::Session>([&]() -> absl::StatusOr<v1::Session> {
    v1::CreateSessionRequest req;
    req.set_name("exam");
    req.set_topology("mini");
    req.add_candidates("c1");
    req.add_candidates("c2");
    req.set_duration_seconds(3600);
    *req.mutable_start_time() = ToTimestamp(absl::Now() + absl::Hours(1));
    req.set_request_id("session-retry");
    v1::Session out;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::CreateSession, req, &out));
    return out;
  });
  for (const auto& a : answers) {
    ASSERT_OK(a);
    EXPECT_EQ(a->session_id(), answers[0]->session_id());
  }
  v1::ListSessionsRequest all;
  all.set_include_ended(true);
  v1::ListSessionsResponse sessions;
  ASSERT_OK(Call(&v1::LabController::Stub::ListSessions, all, &sessions));
  EXPECT_EQ(sessions.sessions_size(), 1);
  EXPECT_EQ(Sandboxes().size(), 2u);
}

TEST_F(IdempotencyTest, FiveConcurrentPoolCreatesAndAssignsWithOneRequestIdActOnce) {
  auto pools = AllAtOnce<v1::Pool>([&]() -> absl::StatusOr<v1::Pool> {
    v1::CreatePoolRequest req;
    req.set_name("class");
    req.set_topology("mini");
    req.set_size(2);
    req.set_request_id("pool-retry");
    v1::Pool out;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::CreatePool, req, &out));
    return out;
  });
  for (const auto& p : pools) ASSERT_OK(p);
  ASSERT_TRUE(Eventually([&] {
    v1::GetPoolRequest req;
    req.set_name("class");
    v1::Pool pool;
    return Call(&v1::LabController::Stub::GetPool, req, &pool).ok() && pool.ready() == 2;
  }));
  auto assigned = AllAtOnce<v1::Sandbox>([&]() -> absl::StatusOr<v1::Sandbox> {
    v1::AssignFromPoolRequest req;
    req.set_pool("class");
    req.set_candidate("alice");
    req.set_request_id("assign-retry");
    v1::Sandbox out;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::AssignFromPool, req, &out));
    return out;
  });
  int handed_out = 0;
  for (const auto& a : assigned) {
    ASSERT_OK(a);
    EXPECT_EQ(a->sandbox_id(), assigned[0]->sandbox_id());
  }
  for (const v1::Sandbox& s : Sandboxes()) handed_out += s.candidate() == "alice";
  EXPECT_EQ(handed_out, 1);
}

TEST_F(IdempotencyTest, FiveConcurrentDestroysLeaveOneDestroyedSandbox) {
  auto s = Create("mini");
  ASSERT_OK(s);
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_READY));
  auto answers = AllAtOnce<v1::Sandbox>([&]() -> absl::StatusOr<v1::Sandbox> {
    v1::DestroySandboxRequest req;
    req.set_sandbox_id(s->sandbox_id());
    v1::Sandbox out;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::DestroySandbox, req, &out));
    return out;
  });
  for (const auto& a : answers) {
    ASSERT_OK(a);
    EXPECT_EQ(a->sandbox_id(), s->sandbox_id());
  }
  ASSERT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_DESTROYED));
  EXPECT_EQ(Sandboxes().size(), 1u);
  EXPECT_EQ(hv_.domain_count() + hv_.network_count() + hv_.volume_count(), 0);
}

}  // namespace
}  // namespace labrack::controller
