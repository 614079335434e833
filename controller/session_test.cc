// Sessions in-process (controller_test_fixture.h): all-or-nothing reservation with the
// numbers when it does not fit, provisioning, per-candidate status and resets, and the end:
// guests paused before any evidence is read, complete evidence folders, every sandbox gone.
// Also sandbox expiry and bad input.
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "absl/strings/match.h"
#include "common/names.h"
#include "controller/controller_test_fixture.h"
#include "controller/sessions/evidence_collector.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"

namespace labrack::controller {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Notes when each domain was paused.
class SuspendRecorder : public worker::ForwardingHypervisor {
 public:
  using ForwardingHypervisor::ForwardingHypervisor;
  absl::Status SuspendDomain(const std::string& name) override {
    {
      absl::MutexLock lock(&mu_);
      suspended_at_.emplace(name, absl::Now());
    }
    return ForwardingHypervisor::SuspendDomain(name);
  }
  std::map<std::string, absl::Time> suspended_at() {
    absl::MutexLock lock(&mu_);
    return suspended_at_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, absl::Time> suspended_at_;
};

absl::Time MTime(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return absl::InfinitePast();
  return absl::TimeFromTimespec(st.st_mtim);
}

class SessionTest : public ControllerTest {
 protected:
  std::unique_ptr<worker::Hypervisor> NewWorkerHypervisor() override {
    auto recorder = std::make_unique<SuspendRecorder>(&hv_);
    recorder_ = recorder.get();
    return recorder;
  }

  static v1::CreateSessionRequest Request(const std::string& name, int candidates) {
    v1::CreateSessionRequest req;
    req.set_name(name);
    req.set_topology("mini");
    for (int i = 1; i <= candidates; ++i) req.add_candidates(absl::StrCat("c", i));
    req.set_duration_seconds(3600);
    return req;
  }

  absl::StatusOr<v1::Session> CreateSession(const v1::CreateSessionRequest& req) {
    v1::Session out;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::CreateSession, req, &out));
    return out;
  }
  absl::StatusOr<v1::Session> EndSession(const std::string& session) {
    v1::EndSessionRequest req;
    req.set_session(session);
    v1::Session out;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::EndSession, req, &out));
    return out;
  }
  bool WaitSession(const std::string& id, v1::SessionPhase phase) {
    return Eventually([&] { return GetSession(id).phase() == phase; }, absl::Seconds(30));
  }
  std::vector<v1::Sandbox> AllSandboxes() {
    v1::ListSandboxesRequest req;
    req.set_include_destroyed(true);
    v1::ListSandboxesResponse out;
    EXPECT_OK(Call(&v1::LabController::Stub::ListSandboxes, req, &out));
    return {out.sandboxes().begin(), out.sandboxes().end()};
  }

  SuspendRecorder* recorder_ = nullptr;
};

TEST_F(SessionTest, ASessionRunsFromReadyThroughResetToFrozenEvidenceAndNothingLeft) {
  v1::CreateSessionRequest req = Request("exam-a", 3);
  auto created = CreateSession(req);
  ASSERT_OK(created);
  const std::string id = created->session_id();
  EXPECT_EQ(created->phase(), v1::SESSION_PHASE_PROVISIONING);
  ASSERT_EQ(created->candidates_size(), 3);
  EXPECT_EQ(created->reserved().vcpus(), 3 * 2);
  ASSERT_TRUE(WaitSession(id, v1::SESSION_PHASE_READY)) << GetSession(id).message();
  v1::Session ready = GetSession("exam-a");  // by name too
  EXPECT_EQ(ready.session_id(), id);
  EXPECT_EQ(ready.ready(), 3u);
  EXPECT_EQ(ready.message(), "3 of 3 ready");
  std::map<std::string, std::string> sandbox_of;
  for (const v1::SessionCandidate& c : ready.candidates()) {
    EXPECT_EQ(c.phase(), v1::SANDBOX_PHASE_READY) << c.candidate();
    EXPECT_EQ(c.nodes_ready(), 2u);
    sandbox_of[c.candidate()] = c.sandbox_id();
    v1::Sandbox s = Get(c.sandbox_id());
    EXPECT_EQ(s.session_id(), id);
    EXPECT_EQ(s.candidate(), c.candidate());
    EXPECT_EQ(s.expires_at(), ready.end_time());
  }

  // A reset during the session shows in the candidate's status and the report.
  v1::ResetSandboxRequest reset;
  reset.set_sandbox_id(sandbox_of["c2"]);
  reset.add_nodes("server");
  v1::Sandbox resetting;
  ASSERT_OK(Call(&v1::LabController::Stub::ResetSandbox, reset, &resetting));
  ASSERT_TRUE(Eventually([&] {
    v1::Sandbox s = Get(sandbox_of["c2"]);
    return s.phase() == v1::SANDBOX_PHASE_READY && s.generation() == 2;
  }));

  auto ending = EndSession(id);
  ASSERT_OK(ending);
  EXPECT_EQ(ending->phase(), v1::SESSION_PHASE_ENDING);
  ASSERT_TRUE(WaitSession(id, v1::SESSION_PHASE_ENDED)) << GetSession(id).message();
  v1::Session ended = GetSession(id);
  const v1::SessionReport& report = ended.report();
  EXPECT_TRUE(report.nothing_left()) << ended.message();
  EXPECT_THAT(report.leftovers(), IsEmpty());
  EXPECT_EQ(report.resets(), 1u);
  EXPECT_LE(TimeUtil::TimestampToMicroseconds(report.frozen_at()),
            TimeUtil::TimestampToMicroseconds(report.evidence_collected_at()));
  EXPECT_LE(TimeUtil::TimestampToMicroseconds(report.evidence_collected_at()),
            TimeUtil::TimestampToMicroseconds(report.ended_at()));
  std::ifstream report_json(report.evidence_dir() + "/report.json");
  std::string report_text((std::istreambuf_iterator<char>(report_json)), {});
  EXPECT_THAT(report_text, HasSubstr("SESSION_PHASE_ENDED"));
  EXPECT_THAT(report_text, HasSubstr("\"nothing_left\": true"));

  const std::map<std::string, absl::Time> paused = recorder_->suspended_at();
  for (const v1::SessionCandidate& c : ended.candidates()) {
    SCOPED_TRACE(c.candidate());
    EXPECT_EQ(c.phase(), v1::SANDBOX_PHASE_DESTROYED);
    EXPECT_THAT(c.evidence_error(), IsEmpty());
    EXPECT_EQ(c.evidence_dir(), absl::StrCat(report.evidence_dir(), "/", c.candidate()));
    EXPECT_OK(VerifyEvidence(c.evidence_dir()));
    // Both nodes' serial logs, the events and the record at least.
    EXPECT_GE(c.evidence_files(), 4u);
    EXPECT_TRUE(std::filesystem::exists(c.evidence_dir() + "/serial/server.log"));
    EXPECT_TRUE(std::filesystem::exists(c.evidence_dir() + "/events.jsonl"));
    // Every guest was paused before the first byte of its evidence was written.
    absl::Time first_write = MTime(c.evidence_dir() + "/serial/server.log");
    for (const char* node : {"server", "storage"}) {
      auto it = paused.find(DomainName(c.sandbox_id(), node));
      ASSERT_NE(it, paused.end()) << node << " was never paused";
      EXPECT_LT(it->second, first_write) << node;
    }
    if (c.candidate() == "c2") {
      ASSERT_EQ(c.resets_size(), 1);
      EXPECT_THAT(c.resets(0).nodes(), ElementsAre("server"));
      EXPECT_EQ(c.resets(0).generation(), 2u);
    } else {
      EXPECT_EQ(c.resets_size(), 0);
    }
  }
  EXPECT_EQ(hv_.domain_count(), 0);
  EXPECT_EQ(hv_.network_count(), 0);
  EXPECT_EQ(hv_.volume_count(), 0);
  // The name is free again.
  EXPECT_OK(CreateSession(Request("exam-a", 1)));
}

TEST_F(SessionTest, ASessionLargerThanCapacityIsRefusedWithTheNumbersAndCreatesNothing) {
  // The fake host has 2 CPUs at 4x overcommit: 8 vCPU, room for 4 sandboxes of 2.
  EXPECT_THAT(CreateSession(Request("too-big", 5)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("needs 5 sandboxes of 2 vCPU"), HasSubstr("10 vCPU"),
                             HasSubstr("8 vCPU"), HasSubstr("only 4 of them"),
                             HasSubstr("nothing was reserved"))));
  EXPECT_THAT(AllSandboxes(), IsEmpty());
  v1::ListSessionsRequest list;
  list.set_include_ended(true);
  v1::ListSessionsResponse sessions;
  ASSERT_OK(Call(&v1::LabController::Stub::ListSessions, list, &sessions));
  EXPECT_EQ(sessions.sessions_size(), 0);
  EXPECT_EQ(hv_.domain_count(), 0);
  // The 4 that fit are accepted.
  EXPECT_OK(CreateSession(Request("fits", 4)));
  ASSERT_OK(Call(&v1::LabController::Stub::ListSessions, list, &sessions));
  ASSERT_EQ(sessions.sessions_size(), 1);
  EXPECT_EQ(sessions.sessions(0).candidate_count(), 4u) << "lists say how many, without the list";
  EXPECT_EQ(sessions.sessions(0).candidates_size(), 0);
}

TEST_F(SessionTest, AFutureSessionReservesAtOnceAndBuildsNothingBeforeItsLead) {
  v1::CreateSessionRequest req = Request("later", 2);
  *req.mutable_start_time() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now() + absl::Hours(2)));
  req.set_lead_seconds(900);
  auto created = CreateSession(req);
  ASSERT_OK(created);
  EXPECT_EQ(created->phase(), v1::SESSION_PHASE_WAITING);
  for (const v1::SessionCandidate& c : created->candidates()) {
    EXPECT_EQ(c.phase(), v1::SANDBOX_PHASE_PENDING);
  }
  v1::ListHostsResponse hosts;
  ASSERT_OK(Call(&v1::LabController::Stub::ListHosts, v1::ListHostsRequest(), &hosts));
  EXPECT_EQ(hosts.hosts(0).reserved().vcpus(), 4u) << "reserved from the start";
  // Another session cannot take the reserved room.
  EXPECT_THAT(CreateSession(Request("other", 3)),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("only 2 of them")));
  absl::SleepFor(absl::Milliseconds(500));  // several reconciler passes
  EXPECT_EQ(hv_.domain_count(), 0);
  EXPECT_EQ(GetSession("later").phase(), v1::SESSION_PHASE_WAITING);

  ASSERT_OK(EndSession("later"));
  ASSERT_TRUE(WaitSession(created->session_id(), v1::SESSION_PHASE_ENDED));
  v1::Session ended = GetSession(created->session_id());
  EXPECT_TRUE(ended.report().nothing_left());
  for (const v1::Sandbox& s : AllSandboxes()) EXPECT_EQ(s.phase(), v1::SANDBOX_PHASE_DESTROYED);
  EXPECT_EQ(hv_.domain_count(), 0);
}

TEST_F(SessionTest, BadRequestsNameTheFieldAndCreateNothing) {
  auto expect_invalid = [&](v1::CreateSessionRequest req, const std::string& field) {
    EXPECT_THAT(CreateSession(req), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(field)));
  };
  v1::CreateSessionRequest req = Request("exam-b", 2);
  req.set_name("Exam/B");
  expect_invalid(req, "name");
  req = Request("exam-b", 2);
  req.set_candidates(1, "c1");
  expect_invalid(req, "candidates[1]: candidate 'c1' is listed twice");
  req = Request("exam-b", 0);
  expect_invalid(req, "candidates: 1 to 500");
  req = Request("exam-b", 1);
  req.set_candidates(0, "../etc");
  expect_invalid(req, "candidates[0]");
  req = Request("exam-b", 1);
  req.set_duration_seconds(0);
  expect_invalid(req, "duration_seconds");
  req = Request("exam-b", 1);
  req.set_lead_seconds(100000);
  expect_invalid(req, "lead_seconds");
  req = Request("exam-b", 1);
  req.set_topology("nosuch");
  EXPECT_THAT(CreateSession(req), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(AllSandboxes(), IsEmpty());
  v1::GetSessionRequest get;
  get.set_session("nosuch");
  v1::Session out;
  EXPECT_THAT(Call(&v1::LabController::Stub::GetSession, get, &out),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SessionTest, ASandboxPastItsTtlIsDestroyed) {
  v1::CreateSandboxRequest req;
  req.set_topology("mini");
  req.set_candidate("cand-1");
  req.set_ttl_seconds(2);
  v1::Sandbox s;
  ASSERT_OK(Call(&v1::LabController::Stub::CreateSandbox, req, &s));
  ASSERT_TRUE(s.has_expires_at());
  ASSERT_TRUE(Eventually([&] { return Get(s.sandbox_id()).phase() == v1::SANDBOX_PHASE_DESTROYED; }));
  bool said_why = false;
  for (const v1::Event& e : Events(s.sandbox_id())) {
    if (e.phase() == v1::SANDBOX_PHASE_DESTROYING) said_why = absl::StrContains(e.message(), "expired at");
  }
  EXPECT_TRUE(said_why) << "the DESTROYING event gives the expiry";
  EXPECT_EQ(hv_.domain_count(), 0);
  req.set_ttl_seconds(31 * 24 * 3600);
  EXPECT_THAT(Call(&v1::LabController::Stub::CreateSandbox, req, &s),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl_seconds")));
}

}  // namespace
}  // namespace labrack::controller
