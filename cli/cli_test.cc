// labrackctl run in-process (RunCli with string streams) against an in-memory
// LabController: output formats, waiting, exit codes and topology files.
#include "cli/cli.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/exit_codes.h"
#include "cli/testing/cli_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labrack::cli::testing {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A port nothing listens on: bound once by us, then closed.
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// --- output formats ---

TEST_F(CliTest, JsonBeforeTheSubcommandIsTheResponsesProtoJson) {
  AddReadySandbox(kReadyId, "cand-1");
  CliResult r = Run({"-o", "json", "sandbox", "list"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  v1::ListSandboxesResponse resp;
  ASSERT_TRUE(ParseJson(r.out, &resp)) << r.out;
  ASSERT_EQ(resp.sandboxes_size(), 1);
  EXPECT_EQ(resp.sandboxes(0).sandbox_id(), kReadyId);
  EXPECT_THAT(r.out, HasSubstr("\"sandboxId\": \"5a5a5a5a"));
}

TEST_F(CliTest, JsonAndServerAfterTheSubcommandWorkToo) {
  AddReadySandbox(kReadyId, "cand-1");
  CliResult r = RunArgs({"sandbox", "get", kReadyId, "-o", "json", "--server", fake_->address()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  v1::Sandbox s;
  ASSERT_TRUE(ParseJson(r.out, &s)) << r.out;
  EXPECT_EQ(s.phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(s.nodes_size(), 2);
}

TEST_F(CliTest, SandboxListTableHasHeadersAndOneAlignedRowPerSandbox) {
  AddReadySandbox(kReadyId, "cand-1");
  AddReadySandbox("5a5a5a5a-0000-4000-8000-000000000002", "candidate-with-a-long-name");
  CliResult r = Run({"sandbox", "list"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_THAT(lines[0], ContainsRegex("^ID +PHASE +TOPOLOGY +CANDIDATE +HOST +GEN +READY +AGE$"));
  EXPECT_THAT(lines[1], StartsWith(kReadyId));
  EXPECT_THAT(lines[2], StartsWith("5a5a5a5a-0000-4000-8000-000000000002"));
  size_t host_column = lines[0].find("HOST");
  for (int i = 1; i <= 2; ++i) {
    EXPECT_EQ(lines[i].find("host-a"), host_column) << lines[i];
    EXPECT_THAT(lines[i], HasSubstr("READY"));
    EXPECT_THAT(lines[i], HasSubstr(" 2/2 "));
  }
}

TEST_F(CliTest, SandboxListPassesFiltersToTheController) {
  AddReadySandbox(kReadyId, "cand-1", "exam=cloud-1");
  AddReadySandbox("5a5a5a5a-0000-4000-8000-000000000002", "cand-2", "exam=cloud-2");
  CliResult r =
      Run({"sandbox", "list", "--phase", "ready", "--label", "exam=cloud-2", "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  v1::ListSandboxesResponse resp;
  ASSERT_TRUE(ParseJson(r.out, &resp)) << r.out;
  ASSERT_EQ(resp.sandboxes_size(), 1);
  EXPECT_EQ(resp.sandboxes(0).candidate(), "cand-2");
}

TEST_F(CliTest, SandboxGetShowsNodesAndHowToReachTheirConsoles) {
  AddReadySandbox(kReadyId, "cand-1");
  CliResult r = Run({"sandbox", "get", kReadyId});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("Phase: +READY"));
  EXPECT_THAT(r.out, ContainsRegex("NODE +PHASE +ADDRESSES"));
  EXPECT_THAT(r.out, ContainsRegex("server +READY +10.10.0.1/24"));
  EXPECT_THAT(r.out,
              HasSubstr(absl::StrCat("labrackctl sandbox console ", kReadyId, " --node client")));
}

// --- create, reset, destroy and --wait ---

TEST_F(CliTest, CreateWaitShowsProgressAndReturnsTheReadySandbox) {
  CliResult r = Run({"-o", "json", "sandbox", "create", "--topology", "lab", "--candidate",
                     "cand-1", "--label", "exam=cloud-1", "--wait"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  v1::Sandbox s;
  ASSERT_TRUE(ParseJson(r.out, &s)) << r.out;
  EXPECT_EQ(s.phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(s.labels().at("exam"), "cloud-1");
  std::string short_id = s.sandbox_id().substr(0, 8);
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("sandbox ", short_id, ": SCHEDULED")));
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("sandbox ", short_id, ": READY 2/2 nodes ready")));
  EXPECT_GE(fake_->calls("WatchEvents"), 1);
}

TEST_F(CliTest, WaitRedrawsOneProgressLineOnATerminal) {
  std::string server = fake_->address();
  std::vector<const char*> argv = {"labrackctl", "--server", server.c_str(), "sandbox", "create",
                                   "-t",         "lab",      "-c",           "cand-1",  "--wait"};
  std::istringstream in;
  std::ostringstream out, err;
  Io io{in, out, err};
  io.stderr_is_tty = true;
  ASSERT_EQ(RunCli(static_cast<int>(argv.size()), argv.data(), io), kExitOk) << err.str();
  std::string progress = err.str();
  EXPECT_THAT(progress, StartsWith("\r\x1b[Ksandbox 1a2b3c01: SCHEDULED"));
  EXPECT_THAT(progress, HasSubstr("\r\x1b[Ksandbox 1a2b3c01: READY 2/2 nodes ready\n"));
  EXPECT_EQ(std::count(progress.begin(), progress.end(), '\n'), 1) << "one line, redrawn";
}

TEST_F(CliTest, CreateWaitExitsSevenWithTheReasonWhenTheSandboxFails) {
  fake_->FailProvisioningWith("node client: readiness marker not seen within 120s");
  CliResult r = Run({"sandbox", "create", "--topology", "lab", "--candidate", "cand-1", "--wait"});
  EXPECT_EQ(r.code, kExitSandboxFailed);
  EXPECT_THAT(r.err,
              ContainsRegex("error: sandbox [0-9a-f-]+ failed: node client: readiness marker "
                            "not seen within 120s"));
}

TEST_F(CliTest, CreateWaitExitsEightWhenTheTimeoutPasses) {
  CliResult r = Run({"sandbox", "create", "--topology", "lab", "--candidate", "cand-1", "--wait",
                     "--timeout", "1ms"});
  EXPECT_EQ(r.code, kExitTimeout);
  EXPECT_THAT(r.err, HasSubstr("timed out after 1ms waiting for sandbox"));
}

TEST_F(CliTest, CreateSendsARandomRequestIdUnlessOneIsGiven) {
  ASSERT_EQ(Run({"sandbox", "create", "-t", "lab", "-c", "cand-1"}).code, kExitOk);
  ASSERT_EQ(Run({"sandbox", "create", "-t", "lab", "-c", "cand-2"}).code, kExitOk);
  std::vector<v1::CreateSandboxRequest> sent = fake_->create_requests();
  ASSERT_EQ(sent.size(), 2u);
  const char* kUuid = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";
  EXPECT_THAT(sent[0].request_id(), ContainsRegex(kUuid));
  EXPECT_THAT(sent[1].request_id(), ContainsRegex(kUuid));
  EXPECT_NE(sent[0].request_id(), sent[1].request_id());
}

TEST_F(CliTest, CreateWithTheSameRequestIdReturnsTheSameSandbox) {
  std::vector<std::string> create = {"-o",  "json", "sandbox", "create",       "-t",
                                     "lab", "-c",   "cand-1",  "--request-id", "exam-7-cand-1"};
  CliResult first = Run(create);
  CliResult second = Run(create);
  v1::Sandbox a, b;
  ASSERT_TRUE(ParseJson(first.out, &a)) << first.err;
  ASSERT_TRUE(ParseJson(second.out, &b)) << second.err;
  EXPECT_EQ(a.sandbox_id(), b.sandbox_id());
  EXPECT_EQ(fake_->create_requests().back().request_id(), "exam-7-cand-1");
}

TEST_F(CliTest, CreateSendsEveryImageOverride) {
  CliResult r = Run({"sandbox", "create", "-t", "lab", "-c", "cand-1", "--image-override",
                     "debian-server=tiny", "--image-override", "debian-switch=tiny-switch"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<v1::CreateSandboxRequest> sent = fake_->create_requests();
  ASSERT_EQ(sent.size(), 1u);
  std::map<std::string, std::string> overrides(sent[0].image_overrides().begin(),
                                               sent[0].image_overrides().end());
  EXPECT_THAT(overrides, ::testing::ElementsAre(::testing::Pair("debian-server", "tiny"),
                                                ::testing::Pair("debian-switch", "tiny-switch")));
}

TEST_F(CliTest, CreateWithoutImageOverridesSendsNone) {
  ASSERT_EQ(Run({"sandbox", "create", "-t", "lab", "-c", "cand-1"}).code, kExitOk);
  ASSERT_EQ(fake_->create_requests().size(), 1u);
  EXPECT_TRUE(fake_->create_requests()[0].image_overrides().empty());
}

TEST_F(CliTest, SandboxGetShowsTheImageOverridesItWasMadeWith) {
  v1::Sandbox s = ParseText<v1::Sandbox>(R"pb(
    sandbox_id: "5a5a5a5a-0000-4000-8000-000000000009"
    topology: "lab"
    candidate: "cand-1"
    phase: SANDBOX_PHASE_READY
    image_overrides { key: "debian-server" value: "tiny" }
    image_overrides { key: "debian-storage" value: "tiny" }
  )pb");
  fake_->AddSandbox(s);
  CliResult r = Run({"sandbox", "get", s.sandbox_id()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("Overrides: +debian-server=tiny, debian-storage=tiny\n"));
}

TEST_F(CliTest, ResetWaitEndsReadyAtTheNextGeneration) {
  AddReadySandbox(kReadyId, "cand-1");
  CliResult r = Run({"sandbox", "reset", kReadyId, "--wait", "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  v1::Sandbox s;
  ASSERT_TRUE(ParseJson(r.out, &s)) << r.out;
  EXPECT_EQ(s.phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(s.generation(), 2u);
  EXPECT_THAT(r.err, HasSubstr("sandbox 5a5a5a5a: RESETTING"));
}

TEST_F(CliTest, DestroyWaitEndsWhenTheSandboxIsDestroyed) {
  AddReadySandbox(kReadyId, "cand-1");
  CliResult r = Run({"sandbox", "destroy", kReadyId, "--wait"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("sandbox ", kReadyId, " destroyed\n"));
  EXPECT_THAT(r.err, HasSubstr("sandbox 5a5a5a5a: DESTROYING"));
}

// --- errors and exit codes ---

TEST_F(CliTest, NotFoundExitsThreeWithTheControllersMessage) {
  CliResult r = Run({"sandbox", "get", "deadbeef"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err, "error: sandbox deadbeef not found\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, UnknownTopologyOnCreateExitsThree) {
  CliResult r = Run({"sandbox", "create", "--topology", "nope", "--candidate", "c1"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_THAT(r.err, HasSubstr("topology 'nope' not found"));
}

TEST_F(CliTest, UnreachableControllerExitsFiveNamingTheAddress) {
  std::string address = absl::StrCat("127.0.0.1:", UnusedPort());
  CliResult r = RunArgs({"--server", address, "host", "list"});
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_THAT(r.err,
              AllOf(StartsWith("error: cannot reach labrack-controller at " + address + ": "),
                    HasSubstr("--server")));
}

TEST_F(CliTest, BadFlagsExitTwoWithoutCallingTheController) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"sandbox"},
      {"sandbox", "list", "--bogus"},
      {"-o", "yaml", "sandbox", "list"},
      {"sandbox", "create", "--topology", "lab"},
      {"sandbox", "create", "-t", "lab", "-c", "c1", "--label", "no-equals-sign"},
      {"sandbox", "create", "-t", "lab", "-c", "c1", "--wait", "--timeout", "soon"},
      {"sandbox", "list", "--phase", "sleeping"},
      {"sandbox", "console", kReadyId},
      {"host", "drain"},
      {"topology", "apply"},
      {"sandbox", "create", "-t", "lab", "-c", "c1", "--image-override", "debian-server"},
      {"sandbox", "create", "-t", "lab", "-c", "c1", "--image-override", "=tiny"},
      {"sandbox", "create", "-t", "lab", "-c", "c1", "--image-override", "debian-server="},
      {"sandbox", "create", "-t", "lab", "-c", "c1", "--image-override"},
      {"topology", "apply", "web.yaml", "--image-override", "debian-server"},
  };
  for (const auto& args : bad) {
    CliResult r = Run(args);
    EXPECT_EQ(r.code, kExitUsage) << absl::StrJoin(args, " ") << "\n" << r.err;
    EXPECT_THAT(r.err, StartsWith("error: ")) << absl::StrJoin(args, " ");
  }
  EXPECT_EQ(fake_->calls("ListSandboxes"), 0);
  EXPECT_EQ(fake_->calls("CreateSandbox"), 0);
}

TEST_F(CliTest, AMalformedImageOverrideIsAUsageErrorNamingTheFlag) {
  for (const char* bad : {"debian-server", "=tiny", "debian-server="}) {
    for (std::vector<std::string> args :
         {std::vector<std::string>{"sandbox", "create", "-t", "lab", "-c", "c1"},
          std::vector<std::string>{"topology", "apply", "web.yaml"}}) {
      args.insert(args.end(), {"--image-override", bad});
      CliResult r = Run(args);
      EXPECT_EQ(r.code, kExitUsage) << absl::StrJoin(args, " ");
      EXPECT_THAT(r.err, AllOf(StartsWith("error: "), HasSubstr("--image-override"),
                               HasSubstr(absl::StrCat("'", bad, "'")), HasSubstr("NAME=OTHER")))
          << absl::StrJoin(args, " ");
    }
  }
  EXPECT_EQ(fake_->calls("CreateSandbox"), 0);
  EXPECT_EQ(fake_->calls("ApplyTopology"), 0);
}

TEST_F(CliTest, HelpListsCommandsExitCodesAndTheServerVariable) {
  CliResult r = RunArgs({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, AllOf(HasSubstr("sandbox"), HasSubstr("LABRACK_SERVER"),
                           HasSubstr("Exit codes:"), HasSubstr("7  the sandbox became FAILED")));
}

TEST_F(CliTest, ServerDefaultsToTheLabrackServerVariable) {
  const char* before = getenv("LABRACK_SERVER");
  absl::Cleanup restore = [saved = std::string(before ? before : ""), was_set = before != nullptr] {
    if (was_set) {
      setenv("LABRACK_SERVER", saved.c_str(), 1);
    } else {
      unsetenv("LABRACK_SERVER");
    }
  };
  ASSERT_EQ(setenv("LABRACK_SERVER", fake_->address().c_str(), 1), 0);
  CliResult r = RunArgs({"host", "list"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("host-a +127.0.0.1:7444 +HEALTHY"));
}

TEST_F(CliTest, DrainingAnUnknownHostExitsThree) {
  EXPECT_EQ(Run({"host", "drain", "host-a"}).code, kExitOk);
  CliResult r = Run({"host", "undrain", "host-z"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_THAT(r.err, HasSubstr("host 'host-z' is not registered"));
}

// --- topologies ---

TEST_F(CliTest, TopologyApplyOfABadFileNamesFileAndLineAndCallsNoController) {
  std::string file = TempDir() + "/bad.yaml";
  std::ofstream(file) << "name: web\nnetworks:\n  - name: lan\nnodes:\n  - name: server\n"
                         "    role: server\n    image: tiny\n    memory_mib: lots\n";
  CliResult r = Run({"topology", "apply", file});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_THAT(r.err, StartsWith("error: " + file + ":8:"));
  EXPECT_THAT(r.err, HasSubstr("memory_mib"));
  EXPECT_EQ(fake_->calls("ApplyTopology"), 0);
}

TEST_F(CliTest, TopologyApplySendsTheParsedTopology) {
  std::string file = TempDir() + "/web.yaml";
  std::ofstream(file) << "name: web\nnetworks:\n  - name: lan\n    cidr: 10.1.0.0/24\nnodes:\n"
                         "  - name: server\n    role: server\n    image: tiny\n    nics:\n"
                         "      - network: lan\n";
  CliResult r = Run({"topology", "apply", file});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("topology web applied: version 1"));
  std::vector<v1::Topology> applied = fake_->applied_topologies();
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].nodes(0).role(), v1::NODE_ROLE_SERVER);
  EXPECT_EQ(applied[0].networks(0).cidr(), "10.1.0.0/24");
}

TEST_F(CliTest, TopologyApplySendsImageOverridesWithTheTopologyAsWritten) {
  std::string file = TempDir() + "/web.yaml";
  std::ofstream(file) << "name: web\nnodes:\n  - name: server\n    role: server\n"
                         "    image: debian-server\n";
  CliResult r = Run({"topology", "apply", file, "--image-override", "debian-server=tiny"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<v1::ApplyTopologyRequest> sent = fake_->apply_requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topology().nodes(0).image(), "debian-server");
  ASSERT_EQ(sent[0].image_overrides().size(), 1u);
  EXPECT_EQ(sent[0].image_overrides().at("debian-server"), "tiny");
}

TEST_F(CliTest, TopologyValidatePrintsNeedsAndFittingHosts) {
  std::string file = TempDir() + "/web.yaml";
  std::ofstream(file) << "name: web\nnodes:\n  - name: a\n    role: server\n    image: tiny\n"
                         "    vcpus: 2\n  - name: b\n    role: workstation\n    image: tiny\n"
                         "    memory_mib: 256\n";
  CliResult r = Run({"topology", "validate", file});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("needs per sandbox: 3 vCPU, 384 MiB memory"));
  EXPECT_THAT(r.out, HasSubstr("fitting hosts: host-a"));
}

TEST_F(CliTest, TopologyShowListsNodesAndNetworks) {
  CliResult r = Run({"topology", "show", "lab"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("server +- +tiny +1 +128 MiB"));
}

// --- tokens ---


// Sets (or, with nullptr, unsets) an environment variable until the end of the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* before = getenv(name);
    was_set_ = before != nullptr;
    if (was_set_) saved_ = before;
    Set(value);
  }
  ~ScopedEnv() { Set(was_set_ ? saved_.c_str() : nullptr); }
  void Set(const char* value) {
    if (value == nullptr) {
      unsetenv(name_);
    } else {
      setenv(name_, value, 1);
    }
  }

 private:
  const char* name_;
  bool was_set_ = false;
  std::string saved_;
};

TEST_F(CliTest, TheTokenComesFromTheFlagElseTheVariableElseTheConfigFile) {
  const std::string config = TempDir() + "/config";
  ScopedEnv xdg("XDG_CONFIG_HOME", config.c_str());
  ScopedEnv variable("LABRACK_TOKEN", nullptr);

  ASSERT_EQ(Run({"host", "list"}).code, kExitOk);
  EXPECT_EQ(fake_->last_authorization(), "") << "no token anywhere: none is sent";

  std::filesystem::create_directories(config + "/labrack");
  std::ofstream(config + "/labrack/token") << "  file-token \nsecond line\n";
  ASSERT_EQ(Run({"host", "list"}).code, kExitOk);
  EXPECT_EQ(fake_->last_authorization(), "Bearer file-token");

  variable.Set("env-token");
  ASSERT_EQ(Run({"host", "list"}).code, kExitOk);
  EXPECT_EQ(fake_->last_authorization(), "Bearer env-token");

  ASSERT_EQ(Run({"--token", "flag-token", "host", "list"}).code, kExitOk);
  EXPECT_EQ(fake_->last_authorization(), "Bearer flag-token");
  ASSERT_EQ(Run({"host", "list", "--token", "after-token"}).code, kExitOk);
  EXPECT_EQ(fake_->last_authorization(), "Bearer after-token");
}

TEST_F(CliTest, RefusedCallsExitTen) {
  EXPECT_EQ(ExitCodeFor(absl::UnauthenticatedError("token 0123 expired")), kExitDenied);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("candidate token 'a' may not")), kExitDenied);
  CliResult help = RunArgs({"--help"});
  EXPECT_THAT(help.out, AllOf(HasSubstr("LABRACK_TOKEN"), HasSubstr("10 not allowed")));
}

TEST_F(CliTest, AnErrorInApiTermsGetsTheLabrackctlHintBelowIt) {
  CliResult r = Run({"topology", "show", "nowhere"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err,
            "error: topology 'nowhere' not found; apply it first (ApplyTopology)\n"
            "hint: apply a topology with: labrackctl topology apply FILE\n");
}

TEST_F(CliTest, TokenCreateChecksItsFlagsBeforeCallingTheController) {
  CliResult r = Run({"token", "create", "--name", "x", "--role", "king"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--role"));
  r = Run({"token", "create", "--role", "admin"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--name"));
}

}  // namespace
}  // namespace labrack::cli::testing
