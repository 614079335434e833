// `labrackctl session ...` and the sandbox expiry flags, run in-process (RunCli with string
// streams) against the in-memory LabController: requests sent, progress, exit codes and
// what people read.
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/exit_codes.h"
#include "cli/testing/cli_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labrack::cli::testing {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

constexpr char kThree[] =
    "candidate,name\nc01,Ana Li\n# absent: c09\nc02,Bo Wang\nc03,\"Chen, Yu\"\n";

// A session of "lab" with three candidates: c01 READY, c02 FAILED, c03 provisioning.
constexpr char kProvisioning[] = R"pb(
  session_id: "5e55aaaa-0000-4000-8000-000000000001"
  name: "exam-1"
  topology: "lab"
  topology_version: 3
  start_time { seconds: 1796086800 }
  end_time { seconds: 1796095800 }
  lead_seconds: 900
  collect_evidence: true
  phase: SESSION_PHASE_PROVISIONING
  message: "1 of 3 ready, 1 failed (c02: node client: readiness marker not seen)"
  reserved { vcpus: 6 memory_mib: 768 disk_mib: 0 }
  ready: 1
  failed: 1
  candidates {
    candidate: "c01"
    sandbox_id: "cafe0101-0000-4000-8000-000000000001"
    phase: SANDBOX_PHASE_READY
    nodes_ready: 2
    nodes_total: 2
    resets { generation: 2 }
  }
  candidates {
    candidate: "c02"
    sandbox_id: "cafe0102-0000-4000-8000-000000000002"
    phase: SANDBOX_PHASE_FAILED
    nodes_ready: 1
    nodes_total: 2
    message: "node client: readiness marker not seen"
  }
  candidates {
    candidate: "c03"
    sandbox_id: "cafe0103-0000-4000-8000-000000000003"
    phase: SANDBOX_PHASE_PROVISIONING
    nodes_ready: 0
    nodes_total: 2
  })pb";

constexpr char kEnded[] = R"pb(
  session_id: "5e55bbbb-0000-4000-8000-000000000002"
  name: "exam-0"
  topology: "lab"
  topology_version: 3
  start_time { seconds: 1700000000 }
  end_time { seconds: 1700009000 }
  lead_seconds: 900
  collect_evidence: true
  phase: SESSION_PHASE_ENDED
  ready: 2
  candidates {
    candidate: "c01"
    sandbox_id: "cafe0201-0000-4000-8000-000000000001"
    phase: SANDBOX_PHASE_DESTROYED
    nodes_ready: 2
    nodes_total: 2
    resets { generation: 2 }
    resets { generation: 3 nodes: "server" }
    evidence_dir: "/var/lib/labrack/evidence/exam-0/c01"
    evidence_files: 4
  }
  candidates {
    candidate: "c02"
    sandbox_id: "cafe0202-0000-4000-8000-000000000002"
    phase: SANDBOX_PHASE_DESTROYED
    nodes_ready: 2
    nodes_total: 2
    evidence_error: "the sandbox had failed"
  }
  report {
    frozen_at { seconds: 1700009000 }
    evidence_collected_at { seconds: 1700009060 }
    ended_at { seconds: 1700009100 }
    evidence_dir: "/var/lib/labrack/evidence/exam-0"
    nothing_left: false
    leftovers: "host-a: domain lr-cafe0202-client still defined"
    resets: 2
  })pb";

class SessionTest : public CliTest {
 protected:
  // A candidates file in a fresh folder.
  std::string CandidatesFile(const std::string& text) {
    std::string path = TempDir() + "/candidates.csv";
    std::ofstream(path) << text;
    return path;
  }

  std::vector<std::string> CreateArgs(const std::string& csv) {
    return {"session", "create",       "--name", "exam-1",     "--topology",
            "lab",     "--candidates", csv,      "--duration", "150m"};
  }

  v1::CreateSessionRequest OnlyRequest() {
    std::vector<v1::CreateSessionRequest> sent = fake_->create_session_requests();
    EXPECT_EQ(sent.size(), 1u);
    return sent.empty() ? v1::CreateSessionRequest() : sent[0];
  }
};

// --- create: the request ---

TEST_F(SessionTest, CreateSendsCandidatesTimesLeadDurationAndOptions) {
  std::vector<std::string> args = CreateArgs(CandidatesFile(kThree));
  args.insert(args.end(), {"--start", "2026-12-01T09:00:00+08:00", "--lead", "20m",
                           "--topology-version", "3", "--image-override", "debian-server=tiny",
                           "--no-evidence", "--request-id", "exam-1-try"});
  CliResult r = Run(args);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  v1::CreateSessionRequest req = OnlyRequest();
  EXPECT_EQ(req.name(), "exam-1");
  EXPECT_EQ(req.topology(), "lab");
  EXPECT_EQ(req.topology_version(), 3u);
  EXPECT_THAT(req.candidates(), ElementsAre("c01", "c02", "c03"));
  EXPECT_EQ(req.start_time().seconds(), 1796086800);  // 2026-12-01T01:00:00Z
  EXPECT_EQ(req.duration_seconds(), 150u * 60);
  EXPECT_EQ(req.lead_seconds(), 20u * 60);
  EXPECT_TRUE(req.skip_evidence());
  EXPECT_THAT(req.image_overrides(), ElementsAre(Pair("debian-server", "tiny")));
  EXPECT_EQ(req.request_id(), "exam-1-try");
  EXPECT_THAT(r.out, ContainsRegex("Session: +exam-1\n"));
  EXPECT_THAT(r.out, ContainsRegex("Evidence: +off\n"));
}

TEST_F(SessionTest, CreateTakesALeadOfZeroButNotANegativeOne) {
  std::vector<std::string> args = CreateArgs(CandidatesFile("c01\n"));
  args.insert(args.end(), {"--lead", "0"});
  CliResult r = Run(args);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(OnlyRequest().lead_seconds(), 0u);
  args = CreateArgs(CandidatesFile("c01\n"));
  args.insert(args.end(), {"--lead", "-5m"});
  r = Run(args);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--lead"));
}

TEST_F(SessionTest, CreateDefaultsToNowAFifteenMinuteLeadEvidenceAndARandomRequestId) {
  ASSERT_EQ(Run(CreateArgs(CandidatesFile("c01\n"))).code, kExitOk);
  v1::CreateSessionRequest req = OnlyRequest();
  EXPECT_FALSE(req.has_start_time());
  EXPECT_EQ(req.lead_seconds(), 900u);
  EXPECT_FALSE(req.skip_evidence());
  EXPECT_THAT(
      req.request_id(),
      ContainsRegex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"));
}

TEST_F(SessionTest, CreateStartPlusADurationCountsFromNow) {
  std::vector<std::string> args = CreateArgs(CandidatesFile("c01\n"));
  args.insert(args.end(), {"--start", "+15m"});
  int64_t before = absl::ToUnixSeconds(absl::Now());
  ASSERT_EQ(Run(args).code, kExitOk);
  int64_t after = absl::ToUnixSeconds(absl::Now());
  int64_t start = OnlyRequest().start_time().seconds();
  EXPECT_GE(start, before + 900);
  EXPECT_LE(start, after + 900);
}

TEST_F(SessionTest, CreateReadsCandidatesFromStdinWithDash) {
  CliResult r = Run(CreateArgs("-"), "candidate\nc07\nc08\n");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(OnlyRequest().candidates(), ElementsAre("c07", "c08"));
}

TEST_F(SessionTest, CreateRetriesAnUnavailableControllerWithTheSameRequestId) {
  fake_->FailNextSessionCreates(1);
  CliResult r = Run(CreateArgs(CandidatesFile("c01\n")));
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<v1::CreateSessionRequest> sent = fake_->create_session_requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_FALSE(sent[0].request_id().empty());
  EXPECT_EQ(sent[0].request_id(), sent[1].request_id());
  EXPECT_THAT(r.err, HasSubstr("retrying with the same request id"));
}

TEST_F(SessionTest, ADuplicateCandidateNamesFileAndLinesAndSendsNothing) {
  std::string csv = CandidatesFile("c01\nc02\nc01\n");
  CliResult r = Run(CreateArgs(csv));
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.err, absl::StrCat("error: ", csv, ": line 3: candidate c01 also on line 1\n"));
  EXPECT_EQ(fake_->calls("CreateSession"), 0);
}

TEST_F(SessionTest, AnUnreadableCandidatesFileExitsThreeNamingIt) {
  CliResult r = Run(CreateArgs("/nonexistent/exam.csv"));
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_THAT(r.err, HasSubstr("candidates file /nonexistent/exam.csv"));
}

TEST_F(SessionTest, ABadStartIsAUsageErrorNamingTheFlagAndTheForms) {
  std::vector<std::string> args = CreateArgs(CandidatesFile("c01\n"));
  args.insert(args.end(), {"--start", "tomorrow"});
  CliResult r = Run(args);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, AllOf(HasSubstr("--start"), HasSubstr("'tomorrow'"), HasSubstr("RFC 3339"),
                           HasSubstr("+15m")));
  EXPECT_EQ(fake_->calls("CreateSession"), 0);
}

TEST_F(SessionTest, ABadOrMissingDurationIsAUsageError) {
  std::string csv = CandidatesFile("c01\n");
  std::vector<std::string> bad = CreateArgs(csv);
  bad.back() = "150";  // no unit
  CliResult r = Run(bad);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, AllOf(HasSubstr("--duration"), HasSubstr("'150'")));
  std::vector<std::string> missing = CreateArgs(csv);
  missing.resize(missing.size() - 2);
  EXPECT_EQ(Run(missing).code, kExitUsage);
  EXPECT_EQ(fake_->calls("CreateSession"), 0);
}

// --- create --wait ---

TEST_F(SessionTest, CreateWaitShowsProgressAndReturnsTheReadySession) {
  std::vector<std::string> args = CreateArgs(CandidatesFile(kThree));
  args.insert(args.begin(), {"-o", "json"});
  args.push_back("--wait");
  CliResult r = Run(args);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  v1::Session s;
  ASSERT_TRUE(ParseJson(r.out, &s)) << r.out;
  EXPECT_EQ(s.phase(), v1::SESSION_PHASE_READY);
  EXPECT_EQ(s.ready(), 3u);
  EXPECT_THAT(r.err, HasSubstr("session exam-1: PROVISIONING 0/3 ready\n"));
  EXPECT_THAT(r.err, HasSubstr("session exam-1: READY 3/3 ready\n"));
  EXPECT_GE(fake_->calls("WatchSession"), 1);
}

TEST_F(SessionTest, CreateWaitExitsSevenNamingTheFailedCandidate) {
  fake_->FailSessionCandidate("c02", "node client: readiness marker not seen within 120s");
  std::vector<std::string> args = CreateArgs(CandidatesFile(kThree));
  args.push_back("--wait");
  CliResult r = Run(args);
  EXPECT_EQ(r.code, kExitSandboxFailed) << r.err;
  EXPECT_THAT(r.err, HasSubstr("session exam-1: PROVISIONING 2/3 ready, 1 failed (c02: node "
                               "client: readiness marker not seen within 120s)\n"));
  EXPECT_THAT(r.err, HasSubstr("error: session exam-1: the sandboxes of 1 of 3 candidates "
                               "failed: c02: node client: readiness marker not seen within 120s"));
  EXPECT_EQ(r.out, "");
}

TEST_F(SessionTest, CreateWaitNamesAFewFailuresThenCountsTheRest) {
  fake_->FailProvisioningWith("no image");
  std::vector<std::string> args = CreateArgs(CandidatesFile("c1\nc2\nc3\nc4\nc5\n"));
  args.push_back("--wait");
  CliResult r = Run(args);
  EXPECT_EQ(r.code, kExitSandboxFailed) << r.err;
  EXPECT_THAT(r.err, HasSubstr("PROVISIONING 0/5 ready, 5 failed (c1: no image, c2: no image, "
                               "c3: no image and 2 more)"));
  EXPECT_THAT(r.err, HasSubstr("c5: no image"));  // the error names every one
}

TEST_F(SessionTest, CreateWaitExitsEightWhenTheTimeoutPasses) {
  std::vector<std::string> args = CreateArgs(CandidatesFile(kThree));
  args.insert(args.end(), {"--wait", "--timeout", "1ms"});
  CliResult r = Run(args);
  EXPECT_EQ(r.code, kExitTimeout);
  EXPECT_THAT(r.err, HasSubstr("timed out after 1ms waiting for session exam-1 to become READY"));
}

TEST_F(SessionTest, CreateWaitGetsThereWhenTheStreamKeepsBreaking) {
  fake_->SetSessionStreamLimit(1);
  std::vector<std::string> args = CreateArgs(CandidatesFile(kThree));
  args.push_back("--wait");
  CliResult r = Run(args);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.err, HasSubstr("session exam-1: READY 3/3 ready\n"));
  EXPECT_GE(fake_->calls("WatchSession") + fake_->calls("GetSession"), 2);
}

// --- get, list, end ---

TEST_F(SessionTest, GetShowsFieldsAndACandidateTable) {
  fake_->AddSession(ParseText<v1::Session>(kProvisioning));
  CliResult r = Run({"session", "get", "exam-1"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("Id: +5e55aaaa-0000-4000-8000-000000000001\n"));
  EXPECT_THAT(r.out, ContainsRegex("Phase: +PROVISIONING\n"));
  EXPECT_THAT(r.out, ContainsRegex("Topology: +lab@3\n"));
  EXPECT_THAT(r.out, ContainsRegex("Start: +2026-12-01 01:00:00 UTC"));
  EXPECT_THAT(r.out, ContainsRegex("End: +2026-12-01 03:30:00 UTC"));
  EXPECT_THAT(r.out, ContainsRegex("Lead: +15m \\(provisioning from 2026-12-01 00:45 UTC\\)\n"));
  EXPECT_THAT(r.out, ContainsRegex("Evidence: +on\n"));
  EXPECT_THAT(r.out, ContainsRegex("Candidates: +3: 1 ready, 1 failed\n"));
  EXPECT_THAT(r.out, ContainsRegex("CANDIDATE +SANDBOX +PHASE +NODES +RESETS +MESSAGE\n"));
  EXPECT_THAT(r.out, ContainsRegex("c01 +cafe0101 +READY +2/2 +1 +-\n"));
  EXPECT_THAT(
      r.out,
      ContainsRegex("c02 +cafe0102 +FAILED +1/2 +0 +node client: readiness marker not seen\n"));
  EXPECT_THAT(r.out, ContainsRegex("c03 +cafe0103 +PROVISIONING +0/2 +0 +-\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("Report:")));
}

TEST_F(SessionTest, GetOfAnEndedSessionShowsTheReport) {
  fake_->AddSession(ParseText<v1::Session>(kEnded));
  CliResult r = Run({"session", "get", "5e55bbbb-0000-4000-8000-000000000002"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out,
              ContainsRegex("CANDIDATE +SANDBOX +PHASE +NODES +RESETS +EVIDENCE +MESSAGE\n"));
  EXPECT_THAT(r.out, ContainsRegex("c01 +cafe0201 +DESTROYED +2/2 +2 +4 files +-\n"));
  EXPECT_THAT(r.out,
              ContainsRegex("c02 +cafe0202 +DESTROYED +2/2 +0 +none: the sandbox had failed"));
  EXPECT_THAT(r.out, HasSubstr("Report:\n"));
  EXPECT_THAT(r.out, ContainsRegex("  Frozen at: +2023-11-15 00:43:20 UTC"));
  EXPECT_THAT(r.out, ContainsRegex("  Evidence collected: +2023-11-15 00:44:20 UTC"));
  EXPECT_THAT(r.out, ContainsRegex("  Ended at: +2023-11-15 00:45:00 UTC"));
  EXPECT_THAT(r.out, ContainsRegex("  Evidence folder: +/var/lib/labrack/evidence/exam-0\n"));
  EXPECT_THAT(r.out, ContainsRegex("  Nothing left: +no\n"));
  EXPECT_THAT(r.out,
              HasSubstr("  Leftovers:\n    host-a: domain lr-cafe0202-client still defined\n"));
  EXPECT_THAT(r.out, ContainsRegex("  Resets: +2\n"));
}

TEST_F(SessionTest, GetOfAnUnknownSessionExitsThree) {
  CliResult r = Run({"session", "get", "nope"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_THAT(r.err, HasSubstr("session 'nope' not found"));
}

TEST_F(SessionTest, ListLeavesEndedSessionsOutUnlessAll) {
  fake_->AddSession(ParseText<v1::Session>(kProvisioning));
  fake_->AddSession(ParseText<v1::Session>(kEnded));
  CliResult r = Run({"session", "list"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("^NAME +ID +TOPOLOGY +PHASE +READY +FAILED +START +END\n"));
  EXPECT_THAT(r.out, ContainsRegex("exam-1 +5e55aaaa +lab@3 +PROVISIONING +1/3 +1 +2026-12-01 "
                                   "01:00 UTC +2026-12-01 03:30 UTC\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("exam-0")));
  r = Run({"session", "list", "--all"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("exam-0 +5e55bbbb +lab@3 +ENDED +2/2 +0 "));
}

TEST_F(SessionTest, EndWaitFollowsToEndedAndPrintsTheReport) {
  ASSERT_EQ(Run(CreateArgs(CandidatesFile(kThree))).code, kExitOk);
  CliResult r = Run({"session", "end", "exam-1", "--wait"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.err, HasSubstr("session exam-1: ENDING (freezing every guest)\n"));
  EXPECT_THAT(r.err, HasSubstr("session exam-1: ENDED\n"));
  EXPECT_THAT(r.out, HasSubstr("session exam-1 is ENDED\nReport:\n"));
  EXPECT_THAT(r.out, ContainsRegex("Evidence folder: +/var/lib/labrack/evidence/exam-1\n"));
  EXPECT_THAT(r.out, ContainsRegex("Nothing left: +yes\n"));
}

TEST_F(SessionTest, EndWithoutWaitReturnsAtEnding) {
  ASSERT_EQ(Run(CreateArgs(CandidatesFile("c01\n"))).code, kExitOk);
  CliResult r = Run({"session", "end", "exam-1"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "session exam-1 is ENDING (freezing every guest)\n");
}

TEST_F(SessionTest, EndExitsNineWhenSomethingWasLeftOnAHost) {
  fake_->SetSessionLeftovers({"host-a: volume lr-cafe0101-server.qcow2 still present"});
  ASSERT_EQ(Run(CreateArgs(CandidatesFile("c01\n"))).code, kExitOk);
  CliResult r = Run({"session", "end", "exam-1", "--wait"});
  EXPECT_EQ(r.code, kExitLeftovers);
  EXPECT_THAT(r.out, ContainsRegex("Nothing left: +no\n"));
  EXPECT_THAT(r.out, HasSubstr("    host-a: volume lr-cafe0101-server.qcow2 still present\n"));
  EXPECT_THAT(r.err, HasSubstr("error: session exam-1 ended, but its hosts did not confirm"));
}

TEST_F(SessionTest, GetWatchFollowsUntilTheSessionEndsThenPrintsIt) {
  ASSERT_EQ(Run(CreateArgs(CandidatesFile(kThree))).code, kExitOk);
  std::thread ender([this] {
    Eventually([this] {
      v1::Session s;
      return ParseJson(Run({"-o", "json", "session", "get", "exam-1"}).out, &s) &&
             s.phase() == v1::SESSION_PHASE_READY;
    });
    absl::SleepFor(absl::Milliseconds(100));  // the watcher has seen READY by now
    Run({"session", "end", "exam-1"});
  });
  CliResult r = Run({"session", "get", "exam-1", "--watch", "--timeout", "20s"});
  ender.join();
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.err, HasSubstr("session exam-1: READY 3/3 ready\n"));
  EXPECT_THAT(r.err, HasSubstr("session exam-1: ENDED\n"));
  EXPECT_THAT(r.out, ContainsRegex("Phase: +ENDED\n"));
  EXPECT_THAT(r.out, ContainsRegex("Nothing left: +yes\n"));
}

// --- sandbox expiry ---

TEST_F(SessionTest, SandboxCreateTtlSetsTtlSecondsAndItsAbsenceNone) {
  ASSERT_EQ(Run({"sandbox", "create", "-t", "lab", "-c", "c1", "--ttl", "2h30m"}).code, kExitOk);
  ASSERT_EQ(Run({"sandbox", "create", "-t", "lab", "-c", "c2"}).code, kExitOk);
  std::vector<v1::CreateSandboxRequest> sent = fake_->create_requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].ttl_seconds(), 9000u);
  EXPECT_EQ(sent[1].ttl_seconds(), 0u);
  CliResult bad = Run({"sandbox", "create", "-t", "lab", "-c", "c3", "--ttl", "soon"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("--ttl"));
}

TEST_F(SessionTest, SandboxGetShowsExpiresOnlyWhenSet) {
  AddReadySandbox(kReadyId, "cand-1");
  EXPECT_THAT(Run({"sandbox", "get", kReadyId}).out, Not(HasSubstr("Expires:")));
  v1::Sandbox s = ParseText<v1::Sandbox>(R"pb(
    sandbox_id: "5a5a5a5a-0000-4000-8000-000000000009"
    phase: SANDBOX_PHASE_READY
    expires_at { seconds: 4102444800 })pb");
  fake_->AddSandbox(s);
  CliResult r = Run({"sandbox", "get", s.sandbox_id()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("Expires: +2100-01-01 00:00:00 UTC \\(in [0-9]+d\\)\n"));
}

TEST_F(SessionTest, HelpListsTheSessionCommandsAndExitCodeNine) {
  CliResult r = RunArgs({"session", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out,
              AllOf(HasSubstr("create"), HasSubstr("get"), HasSubstr("list"), HasSubstr("end")));
  r = RunArgs({"--help"});
  EXPECT_THAT(r.out, HasSubstr("9  a session ended but left something on a host"));
}

}  // namespace
}  // namespace labrack::cli::testing
