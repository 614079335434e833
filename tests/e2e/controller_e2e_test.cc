// The whole path from a command to a lab, with real processes on loopback: one
// labrack-controller, two labrack-worker processes on qemu:///system, and labrackctl. The
// cases share one cluster and run in order; each leaves the cluster as it found it, and
// the suite's teardown fails if any guest, network, volume or file is left.
#include <signal.h>

#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/topology/manifest_yaml.h"
#include "google/protobuf/util/json_util.h"
#include "labrack/v1/access.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"

namespace labrack::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::Duration kBuildTimeout = absl::Minutes(4);

class ControllerE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster();
    cluster_->Start();
  }
  static void TearDownTestSuite() {
    cluster_->Stop();
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (HasFatalFailure() || cluster_->dir().empty()) GTEST_SKIP() << "the cluster did not start";
  }

  // labrackctl -o json ... parsed as a Sandbox; fails the test on a non-zero exit.
  static v1::Sandbox CtlSandbox(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"-o", "json"};
    full.insert(full.end(), args.begin(), args.end());
    CommandResult r = cluster_->Ctl(full);
    EXPECT_EQ(r.exit_code, 0) << "labrackctl " << absl::StrJoin(args, " ") << ":\n" << r.err;
    v1::Sandbox s;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &s, options).ok()) << r.out;
    return s;
  }

  static v1::Sandbox CreateWait(const std::string& candidate) {
    return CtlSandbox({"sandbox", "create", "--topology", "smoke", "--candidate", candidate, "--wait"});
  }

  static int HostIndex(const std::string& host_id) {
    return host_id == cluster_->host_id(0) ? 0 : 1;
  }

  static void ExpectAllNodesReady(const v1::Sandbox& s) {
    EXPECT_EQ(s.phase(), v1::SANDBOX_PHASE_READY) << s.message();
    ASSERT_EQ(s.nodes_size(), 3);
    for (const v1::NodeStatus& n : s.nodes()) EXPECT_EQ(n.phase(), v1::NODE_PHASE_READY) << n.name();
  }

  // Whether /root/<file> exists on `node`, asked over `sandbox console`. Right after a
  // reset the guest may not read the console yet (what is typed before its shell starts is
  // dropped), so a console that printed neither answer is asked again, a few times.
  static std::string FileOnNode(const std::string& id, const std::string& node,
                                const std::string& file) {
    CommandResult r;
    for (int attempt = 0; attempt < 4; ++attempt) {
      r = cluster_->Ctl({"sandbox", "console", id, "--node", node},
                        absl::StrCat("\nif [ -e /root/", file, " ]; then echo there-$((1+1)); ",
                                     "else echo gone-$((2+3)); fi\n"));
      if (absl::StrContains(r.out, "there-2")) return "there";
      if (absl::StrContains(r.out, "gone-5")) return "gone";
      absl::SleepFor(absl::Seconds(2));
    }
    return absl::StrCat("no answer: ", r.out, r.err);
  }

  static void DestroyWait(const std::string& id) {
    v1::Sandbox gone = CtlSandbox({"sandbox", "destroy", id, "--wait"});
    EXPECT_EQ(gone.phase(), v1::SANDBOX_PHASE_DESTROYED);
  }

  static Cluster* cluster_;
  // Sandboxes the first case makes and later cases use.
  static std::vector<v1::Sandbox> spread_;
};

Cluster* ControllerE2e::cluster_ = nullptr;
std::vector<v1::Sandbox> ControllerE2e::spread_;

TEST_F(ControllerE2e, CreateWaitReturnsReadySandboxesSpreadOverBothWorkers) {
  v1::Sandbox a, b;
  std::thread ta([&] { a = CreateWait("cand-a"); });
  std::thread tb([&] { b = CreateWait("cand-b"); });
  ta.join();
  tb.join();
  ExpectAllNodesReady(a);
  ExpectAllNodesReady(b);
  EXPECT_NE(a.host_id(), b.host_id()) << "spread placement puts them on different hosts";
  EXPECT_THAT(cluster_->SandboxesOnHost(HostIndex(a.host_id())), ::testing::Contains(a.sandbox_id()));
  EXPECT_THAT(cluster_->SandboxesOnHost(HostIndex(b.host_id())), ::testing::Contains(b.sandbox_id()));
  spread_ = {a, b};
}

TEST_F(ControllerE2e, ConsoleRelaysTheGuestSerialConsole) {
  ASSERT_EQ(spread_.size(), 2u);
  CommandResult r = cluster_->Ctl({"sandbox", "console", spread_[0].sandbox_id(), "--node", "server"},
                                  "\necho console-$((6*7))\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("console-42")) << "the guest's shell ran the command";
}

// A candidate's token from `token create`, used through labrackctl: its own sandbox's
// get and console work, anything of another sandbox and anything beyond its role exits
// 10, and after `token revoke` nothing works; the audit log shows it all.
TEST_F(ControllerE2e, ACandidateTokenReachesItsSandboxOnlyUntilRevoked) {
  ASSERT_EQ(spread_.size(), 2u);
  const std::string mine = spread_[0].sandbox_id();
  const std::string other = spread_[1].sandbox_id();
  CommandResult made = cluster_->Ctl({"-o", "json", "token", "create", "--name", "alice",
                                      "--role", "candidate", "--sandbox", mine, "--ttl", "2h"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  v1::CreateTokenResponse token;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(made.out, &token).ok()) << made.out;
  const std::string secret = token.secret();
  ASSERT_FALSE(secret.empty());

  EXPECT_EQ(cluster_->CtlAs(secret, {"sandbox", "get", mine}).exit_code, 0);
  CommandResult console;
  for (int attempt = 0; attempt < 3 && !absl::StrContains(console.out, "cand-4"); ++attempt) {
    console = cluster_->CtlAs(secret, {"sandbox", "console", mine, "--node", "server"},
                              "\necho cand-$((2+2))\n");
  }
  EXPECT_THAT(console.out, HasSubstr("cand-4")) << console.err;
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"sandbox", "get", other},
                                             {"sandbox", "console", other, "--node", "server"},
                                             {"sandbox", "reset", other},
                                             {"sandbox", "destroy", mine},
                                             {"sandbox", "list"},
                                             {"host", "list"},
                                             {"token", "list"}}) {
    CommandResult r = cluster_->CtlAs(secret, args);
    EXPECT_EQ(r.exit_code, 10) << absl::StrJoin(args, " ") << ": " << r.out << r.err;
  }
  CommandResult anonymous = cluster_->CtlAs("", {"host", "list"});
  EXPECT_EQ(anonymous.exit_code, 10);
  EXPECT_THAT(anonymous.err, HasSubstr("needs a token"));

  CommandResult listed = cluster_->Ctl({"token", "list"});
  EXPECT_THAT(listed.out, ::testing::ContainsRegex(token.token().token_id() + " +alice +candidate"));
  EXPECT_EQ(listed.out.find(secret.substr(17)), std::string::npos) << "a secret was listed";
  ASSERT_EQ(cluster_->Ctl({"token", "revoke", token.token().token_id()}).exit_code, 0);
  CommandResult revoked = cluster_->CtlAs(secret, {"sandbox", "get", mine});
  EXPECT_EQ(revoked.exit_code, 10);
  EXPECT_THAT(revoked.err, HasSubstr("was revoked"));

  CommandResult audit = cluster_->Ctl({"audit", "list", "--since", "10m"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_THAT(audit.out, ::testing::ContainsRegex("alice +candidate +AttachConsole +" + mine + " +OK"));
  EXPECT_THAT(audit.out, ::testing::ContainsRegex("alice +candidate +DestroySandbox +" + mine +
                                                  " +PERMISSION_DENIED"));
  EXPECT_THAT(audit.out, ::testing::ContainsRegex("admin +admin +RevokeToken +" +
                                                  token.token().token_id() + " +OK"));
  // Still READY and untouched: the refusals changed nothing.
  EXPECT_EQ(cluster_->GetSandbox(other)->generation(), spread_[1].generation());
  EXPECT_EQ(cluster_->GetSandbox(mine)->phase(), v1::SANDBOX_PHASE_READY);
}

TEST_F(ControllerE2e, ResetThroughTheCliRestoresThePristineSandbox) {
  ASSERT_EQ(spread_.size(), 2u);
  const std::string id = spread_[0].sandbox_id();
  CommandResult wrote = cluster_->Ctl({"sandbox", "console", id, "--node", "server"},
                                      "\ntouch /root/candidate-work && sync && echo wrote-$((1+1))\n");
  ASSERT_THAT(wrote.out, HasSubstr("wrote-2")) << wrote.err;
  v1::Sandbox reset = CtlSandbox({"sandbox", "reset", id, "--wait"});
  ExpectAllNodesReady(reset);
  EXPECT_EQ(reset.generation(), spread_[0].generation() + 1);
  EXPECT_EQ(FileOnNode(id, "server", "candidate-work"), "gone")
      << "the reset threw the candidate's file away";
}

TEST_F(ControllerE2e, ResetOfOneNodeKeepsTheCandidatesWorkOnTheOthers) {
  ASSERT_EQ(spread_.size(), 2u);
  const std::string id = spread_[0].sandbox_id();
  for (const char* node : {"server", "storage"}) {
    CommandResult wrote = cluster_->Ctl({"sandbox", "console", id, "--node", node},
                                        "\ntouch /root/work-on-node && sync && echo wrote-$((1+1))\n");
    ASSERT_THAT(wrote.out, HasSubstr("wrote-2")) << node << ": " << wrote.err;
  }
  v1::Sandbox before = cluster_->GetSandbox(id).value();
  v1::Sandbox reset = CtlSandbox({"sandbox", "reset", id, "--node", "server", "--wait"});
  ExpectAllNodesReady(reset);
  EXPECT_EQ(reset.generation(), before.generation() + 1);
  EXPECT_EQ(FileOnNode(id, "server", "work-on-node"), "gone") << "the reset node lost the file";
  EXPECT_EQ(FileOnNode(id, "storage", "work-on-node"), "there")
      << "the other node kept the candidate's file";
  // A node the sandbox does not have: refused, and nothing moves.
  CommandResult bad = cluster_->Ctl({"sandbox", "reset", id, "--node", "nosuch"});
  EXPECT_EQ(bad.exit_code, 4);
  EXPECT_THAT(bad.err, HasSubstr("no node 'nosuch'"));
  EXPECT_EQ(cluster_->GetSandbox(id)->generation(), reset.generation());
}

TEST_F(ControllerE2e, DrainedHostGetsNoNewSandboxes) {
  std::string drained = cluster_->host_id(0);
  ASSERT_EQ(cluster_->Ctl({"host", "drain", drained}).exit_code, 0);
  v1::Sandbox s = CreateWait("cand-drain");
  EXPECT_EQ(s.host_id(), cluster_->host_id(1));
  ExpectAllNodesReady(s);
  EXPECT_EQ(cluster_->Ctl({"host", "undrain", drained}).exit_code, 0);
  DestroyWait(s.sandbox_id());
}

TEST_F(ControllerE2e, DestroyThroughTheCliRemovesEverythingOfTheSandbox) {
  ASSERT_EQ(spread_.size(), 2u);
  const v1::Sandbox& s = spread_[1];
  DestroyWait(s.sandbox_id());
  EXPECT_THAT(cluster_->SandboxesOnHost(HostIndex(s.host_id())),
              ::testing::Not(::testing::Contains(s.sandbox_id())));
}

TEST_F(ControllerE2e, BadInputIsRefusedWithAPreciseMessageAndChangesNothing) {
  CommandResult before = cluster_->Ctl({"-o", "json", "sandbox", "list"});
  CommandResult unknown = cluster_->Ctl({"sandbox", "create", "--topology", "nope", "--candidate", "c1"});
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_THAT(unknown.err, HasSubstr("topology 'nope' not found"));

  CommandResult bad_name = cluster_->Ctl({"sandbox", "create", "--topology", "smoke", "--candidate", "a/../b"});
  EXPECT_EQ(bad_name.exit_code, 4);
  EXPECT_THAT(bad_name.err, HasSubstr("candidate"));

  std::string big = cluster_->dir() + "/big.yaml";
  std::ofstream(big) << "name: big\nnetworks:\n  - name: lan\nnodes:\n"
                        "  - name: server\n    role: server\n    image: tiny\n    vcpus: 1\n"
                        "    memory_mib: 200000\n    nics:\n      - network: lan\n";
  ASSERT_EQ(cluster_->Ctl({"topology", "apply", big}).exit_code, 0);
  CommandResult no_fit = cluster_->Ctl({"sandbox", "create", "--topology", "big", "--candidate", "c1"});
  EXPECT_EQ(no_fit.exit_code, 6);
  EXPECT_THAT(no_fit.err, HasSubstr("no host can fit: needs 1 vCPU, 200000 MiB memory"));
  EXPECT_THAT(no_fit.err, HasSubstr("MiB memory free"));

  std::string image_dir = cluster_->dir() + "/bad-image";
  v1::ImageManifest manifest = testing::WriteFakeImage(image_dir, "tampered");
  manifest.mutable_artifacts(0)->set_sha256(std::string(64, 'a'));
  std::ofstream(image_dir + "/manifest.yaml") << ImageManifestToYaml(manifest);
  CommandResult tampered = cluster_->Ctl({"image", "import", image_dir + "/manifest.yaml"});
  EXPECT_NE(tampered.exit_code, 0);
  EXPECT_THAT(tampered.err, HasSubstr("sha256"));
  CommandResult images = cluster_->Ctl({"image", "list"});
  EXPECT_THAT(images.out, ::testing::Not(HasSubstr("tampered")));

  CommandResult after = cluster_->Ctl({"-o", "json", "sandbox", "list"});
  EXPECT_EQ(before.out, after.out) << "refused requests created nothing";
}

TEST_F(ControllerE2e, WorkerKilledMidCreateIsFinishedOrCleanedUp) {
  v1::Sandbox s = CtlSandbox({"sandbox", "create", "--topology", "smoke", "--candidate", "cand-wkill"});
  ASSERT_OK(cluster_->WaitForPhase(s.sandbox_id(), v1::SANDBOX_PHASE_PROVISIONING, absl::Seconds(30)));
  absl::SleepFor(absl::Seconds(1));  // the worker is defining and starting guests now
  int host = HostIndex(s.host_id());
  cluster_->StopWorker(host, SIGKILL);
  ASSERT_NO_FATAL_FAILURE(cluster_->StartWorker(host));
  absl::Time deadline = absl::Now() + kBuildTimeout;
  absl::StatusOr<v1::Sandbox> now;
  do {
    now = cluster_->GetSandbox(s.sandbox_id());
    absl::SleepFor(absl::Milliseconds(300));
  } while (now.ok() && now->phase() != v1::SANDBOX_PHASE_READY &&
           now->phase() != v1::SANDBOX_PHASE_FAILED && absl::Now() < deadline);
  ASSERT_OK(now);
  if (now->phase() == v1::SANDBOX_PHASE_READY) {
    ExpectAllNodesReady(*now);
    DestroyWait(s.sandbox_id());
  } else {
    EXPECT_EQ(now->phase(), v1::SANDBOX_PHASE_FAILED) << now->message();
  }
  deadline = absl::Now() + absl::Seconds(60);
  while (!cluster_->SandboxesOnHost(host).empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_THAT(cluster_->SandboxesOnHost(host), ::testing::Not(::testing::Contains(s.sandbox_id())));
}

TEST_F(ControllerE2e, ControllerKilledMidCreateFinishesTheSandboxAfterRestart) {
  v1::Sandbox s = CtlSandbox({"sandbox", "create", "--topology", "smoke", "--candidate", "cand-ckill"});
  ASSERT_OK(cluster_->WaitForPhase(s.sandbox_id(), v1::SANDBOX_PHASE_PROVISIONING, absl::Seconds(30)));
  absl::SleepFor(absl::Seconds(1));
  cluster_->StopController(SIGKILL);
  ASSERT_NO_FATAL_FAILURE(cluster_->StartController());
  absl::StatusOr<v1::Sandbox> ready =
      cluster_->WaitForPhase(s.sandbox_id(), v1::SANDBOX_PHASE_READY, kBuildTimeout);
  ASSERT_OK(ready) << "the controller forgot a sandbox it had acknowledged";
  ExpectAllNodesReady(*ready);
  DestroyWait(s.sandbox_id());
}

TEST_F(ControllerE2e, SandboxesOfAVanishedWorkerShowAsLostThenRecover) {
  ASSERT_EQ(spread_.size(), 2u);
  const v1::Sandbox& s = spread_[0];
  int host = HostIndex(s.host_id());
  cluster_->StopWorker(host, SIGKILL);
  absl::Time killed = absl::Now();
  absl::StatusOr<v1::Sandbox> lost =
      cluster_->WaitForPhase(s.sandbox_id(), v1::SANDBOX_PHASE_LOST, absl::Seconds(30));
  ASSERT_OK(lost);
  ASSERT_EQ(lost->phase(), v1::SANDBOX_PHASE_LOST) << "not marked lost within 30 s";
  std::cout << "sandbox marked LOST " << absl::FormatDuration(absl::Now() - killed)
            << " after its worker was killed (host timeout 6 s)\n";
  ASSERT_NO_FATAL_FAILURE(cluster_->StartWorker(host));
  absl::StatusOr<v1::Sandbox> back =
      cluster_->WaitForPhase(s.sandbox_id(), v1::SANDBOX_PHASE_READY, absl::Seconds(60));
  ASSERT_OK(back);
  EXPECT_EQ(back->phase(), v1::SANDBOX_PHASE_READY) << "its guests kept running";
  DestroyWait(s.sandbox_id());
}

}  // namespace
}  // namespace labrack::e2e
