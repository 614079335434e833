// An exam session end to end, with real processes and guests: ten candidates on the smoke
// topology, the controller killed with SIGKILL while the session provisions and started
// again (the session must finish with exactly one sandbox per candidate), a candidate's
// reset, then `session end`: guests frozen, evidence folders whose checksums hold and whose
// disks hold what a candidate wrote, and nothing of the session left on the hosts.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/grpc_util.h"
#include "common/status_macros.h"
#include "common/uuid.h"
#include "controller/sessions/evidence_collector.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster.h"
#include "tests/testing/status_matchers.h"

namespace labrack::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int kCandidates = 10;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SessionE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.Start();
    if (HasFatalFailure()) GTEST_SKIP() << "the cluster did not start";
  }
  void TearDown() override { cluster_.Stop(); }

  absl::StatusOr<v1::Session> GetSession(const std::string& session) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetSessionRequest req;
    req.set_session(session);
    v1::Session out;
    RETURN_IF_ERROR(FromGrpc(cluster_.stub().GetSession(&ctx, req, &out)));
    return out;
  }

  // Polls until the session reaches `phase`; the last state seen.
  v1::Session WaitSession(const std::string& session, v1::SessionPhase phase,
                          absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    v1::Session last;
    while (absl::Now() < deadline) {
      absl::StatusOr<v1::Session> now = GetSession(session);
      if (now.ok()) {
        last = *now;
        if (last.phase() == phase) return last;
      }
      absl::SleepFor(absl::Seconds(1));
    }
    return last;
  }

  Cluster cluster_{ClusterOptions{.workers = 2}};
};

TEST_F(SessionE2e, TenCandidatesSurviveAControllerKillAndEndWithEvidenceAndNothingLeft) {
  const std::string csv = cluster_.dir() + "/candidates.csv";
  {
    std::ofstream out(csv);
    out << "candidate,name\n";
    for (int i = 1; i <= kCandidates; ++i) out << absl::StrFormat("c%02d,Candidate %d\n", i, i);
  }
  CommandResult created = cluster_.Ctl({"session", "create", "--name", "exam-e2e", "--topology",
                                        "smoke", "--candidates", csv, "--duration", "30m"});
  ASSERT_EQ(created.exit_code, 0) << created.err;

  // Kill the controller while the session provisions: some guests exist, not all are ready.
  absl::Time deadline = absl::Now() + absl::Minutes(2);
  while (absl::Now() < deadline &&
         cluster_.SandboxesOnHost(0).size() + cluster_.SandboxesOnHost(1).size() < 3) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  absl::StatusOr<v1::Session> before_kill = GetSession("exam-e2e");
  ASSERT_OK(before_kill);
  EXPECT_NE(before_kill->phase(), v1::SESSION_PHASE_READY) << "the kill came too late to count";
  cluster_.StopController(SIGKILL);
  cluster_.StartController();

  v1::Session ready = WaitSession("exam-e2e", v1::SESSION_PHASE_READY, absl::Minutes(8));
  ASSERT_EQ(ready.phase(), v1::SESSION_PHASE_READY) << ready.message() << "\n" << cluster_.LogTails();
  ASSERT_EQ(ready.candidates_size(), kCandidates);
  EXPECT_EQ(ready.ready(), static_cast<uint32_t>(kCandidates));
  // Exactly one sandbox per candidate, in the store and on the hosts.
  std::set<std::string> session_sandboxes;
  std::map<std::string, std::string> sandbox_of;
  for (const v1::SessionCandidate& c : ready.candidates()) {
    session_sandboxes.insert(c.sandbox_id());
    sandbox_of[c.candidate()] = c.sandbox_id();
  }
  EXPECT_EQ(session_sandboxes.size(), static_cast<size_t>(kCandidates));
  std::set<std::string> on_hosts;
  for (int i = 0; i < 2; ++i) {
    for (const std::string& id : cluster_.SandboxesOnHost(i)) {
      EXPECT_TRUE(on_hosts.insert(id).second) << id << " is on both hosts";
    }
  }
  EXPECT_EQ(on_hosts, session_sandboxes);
  CommandResult listed = cluster_.Ctl({"sandbox", "list", "--all"});
  EXPECT_EQ(std::count(listed.out.begin(), listed.out.end(), '\n'), kCandidates + 1) << listed.out;

  // A candidate's work, which the evidence must keep; another candidate's reset.
  const std::string answer = absl::StrCat("answer-", NewUuid4());
  CommandResult wrote = cluster_.Ctl(
      {"sandbox", "console", sandbox_of["c01"], "--node", "server"},
      absl::StrCat("\necho ", answer, " > /root/answer && sync && echo wrote-$((1+1))\n"));
  ASSERT_THAT(wrote.out, HasSubstr("wrote-2")) << wrote.err;
  CommandResult reset = cluster_.Ctl({"sandbox", "reset", sandbox_of["c03"], "--wait"});
  ASSERT_EQ(reset.exit_code, 0) << reset.err;

  CommandResult ended = cluster_.Ctl({"session", "end", "exam-e2e", "--wait"}, "",
                                     absl::Minutes(6));
  EXPECT_EQ(ended.exit_code, 0) << ended.out << ended.err;
  absl::StatusOr<v1::Session> final_state = GetSession("exam-e2e");
  ASSERT_OK(final_state);
  ASSERT_EQ(final_state->phase(), v1::SESSION_PHASE_ENDED) << final_state->message();
  const v1::SessionReport& report = final_state->report();
  EXPECT_TRUE(report.nothing_left()) << final_state->message();
  EXPECT_EQ(report.resets(), 1u);
  EXPECT_TRUE(std::filesystem::exists(report.evidence_dir() + "/report.json"));

  for (const v1::SessionCandidate& c : final_state->candidates()) {
    SCOPED_TRACE(c.candidate());
    EXPECT_EQ(c.phase(), v1::SANDBOX_PHASE_DESTROYED);
    EXPECT_THAT(c.evidence_error(), IsEmpty());
    ASSERT_FALSE(c.evidence_dir().empty());
    EXPECT_OK(controller::VerifyEvidence(c.evidence_dir()));
    // Three nodes' root overlays, the storage node's four blank disks, three serial logs,
    // the events and the record.
    EXPECT_EQ(c.evidence_files(), 3u + 4u + 3u + 2u);
    for (const char* node : {"server", "switch", "storage"}) {
      EXPECT_THAT(ReadFile(absl::StrCat(c.evidence_dir(), "/serial/", node, ".log")),
                  HasSubstr("LABRACK-READY"))
          << node;
    }
    CommandResult info = RunCommand({"qemu-img", "info", "-U", "--output=json", "-f", "qcow2",
                                     c.evidence_dir() + "/disks/server.qcow2"},
                                    "", absl::Seconds(30));
    EXPECT_EQ(info.exit_code, 0) << info.err;
    EXPECT_THAT(info.out, HasSubstr("\"backing-filename\"")) << "the overlay names its base";
    EXPECT_EQ(c.resets_size(), c.candidate() == "c03" ? 1 : 0);
  }
  const std::string c01_disk =
      absl::StrCat(report.evidence_dir(), "/c01/disks/server.qcow2");
  EXPECT_THAT(ReadFile(c01_disk), HasSubstr(answer)) << "the candidate's file is in the evidence";
  EXPECT_THAT(ReadFile(absl::StrCat(report.evidence_dir(), "/c02/disks/server.qcow2")),
              ::testing::Not(HasSubstr(answer)));
  EXPECT_THAT(cluster_.Leftovers(), IsEmpty());
}

}  // namespace
}  // namespace labrack::e2e
