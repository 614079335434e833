// Templates on real qemu:///system guests, through a real LabWorker with --template-dir:
// the first sandbox of the smoke topology boots and leaves a template per node; a second
// is restored from them (its guests never boot, yet answer on their consoles and reach
// each other over the new sandbox's own bridges); a reset restores again and discards what
// was written; a template whose memory state is not a save image falls back to a boot.
// The sandboxes are shared by the tests of this suite, in order.
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/topology/topology_yaml.h"
#include "common/uuid.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/libvirt/libvirt_env.h"
#include "tests/testing/guest_shell.h"
#include "tests/testing/status_matchers.h"
#include "worker/sandbox/node_templates.h"
#include "worker/sandbox/sandbox_plan.h"
#include "worker/templates/template_store.h"

namespace labrack::worker {
namespace {

namespace fs = std::filesystem;
using ::labrack::testing::GuestShell;
using ::labrack::testing::IsOkAndHolds;
using ::testing::HasSubstr;
using ::testing::Not;

class Templates : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new LibvirtEnv();
    env_->Start(/*templates=*/true);
    if (::testing::Test::HasFatalFailure()) return;
    absl::StatusOr<v1::Topology> smoke =
        LoadTopologyFile(absl::StrCat(getenv("LABRACK_SOURCE_DIR"), "/topologies/smoke.yaml"));
    ASSERT_OK(smoke);
    topology_ = new v1::Topology(*smoke);
    a_ = new std::string(NewUuid4());
    b_ = new std::string(NewUuid4());
    absl::Time start = absl::Now();
    absl::StatusOr<v1::SandboxStatus> sa =
        env_->Create(*a_, *smoke, /*wait_ready=*/true, HashOf('a'));
    ASSERT_OK(sa);
    ASSERT_EQ(sa->phase(), v1::SANDBOX_PHASE_READY) << sa->DebugString();
    std::cout << "booted and saved: " << absl::Now() - start << "\n";
    start = absl::Now();
    absl::StatusOr<v1::SandboxStatus> sb = env_->Create(*b_, *smoke, true, HashOf('b'));
    ASSERT_OK(sb);
    ASSERT_EQ(sb->phase(), v1::SANDBOX_PHASE_READY) << sb->DebugString();
    std::cout << "restored: " << absl::Now() - start << "\n";
  }

  static void TearDownTestSuite() {
    env_->Stop();  // destroys every sandbox and checks that nothing is left
    delete env_;
    delete topology_;
    delete a_;
    delete b_;
  }

  void SetUp() override {
    if (env_->worker() == nullptr || b_ == nullptr) GTEST_SKIP() << "suite set-up failed";
  }

  // A console password hash of the sandboxes' (only its form matters to the guests).
  static std::string HashOf(char c) { return "$6$labrack" + std::string(1, c) + "$" + std::string(86, c); }
  static std::string TemplateDir() { return env_->state_dir() + "/templates"; }
  static std::vector<std::string> TemplateFolders() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(TemplateDir(), ec)) out.push_back(f.path());
    return out;
  }
  std::string Stamp(const std::string& id, const std::string& node) {
    return RestoredStampPath(
        SerialLogPath(absl::StrCat(env_->state_dir(), "/sandboxes/", id), node));
  }
  // Whether `node`'s template's memory state begins with libvirt's magic.
  static bool TemplateIsASaveImage(const std::string& folder) {
    std::ifstream state(TemplateStore::StatePath(folder));
    std::string magic(16, '\0');
    state.read(magic.data(), 16);
    return magic == "LibvirtQemudSave";
  }
  std::unique_ptr<GuestShell> Shell(const std::string& sandbox, const std::string& node) {
    auto shell = env_->Shell(sandbox, node);
    EXPECT_OK(shell);
    return shell.ok() ? *std::move(shell) : nullptr;
  }

  static LibvirtEnv* env_;
  static v1::Topology* topology_;
  static std::string* a_;
  static std::string* b_;
};

LibvirtEnv* Templates::env_ = nullptr;
v1::Topology* Templates::topology_ = nullptr;
std::string* Templates::a_ = nullptr;
std::string* Templates::b_ = nullptr;

TEST_F(Templates, TheFirstSandboxBootsAndLeavesATemplatePerNode) {
  EXPECT_EQ(TemplateFolders().size(), 3u);
  for (const std::string& folder : TemplateFolders()) {
    EXPECT_TRUE(TemplateIsASaveImage(folder)) << folder;
    EXPECT_GT(fs::file_size(TemplateStore::StatePath(folder)), 1u << 20) << folder;
  }
  for (const v1::Node& node : topology_->nodes()) {
    // It booted, was saved, and runs on from its own saved state (whose start began its
    // log afresh: the boot's lines are gone, the shell's prompt is there).
    EXPECT_TRUE(fs::exists(Stamp(*a_, node.name()))) << node.name();
    EXPECT_THAT(env_->SerialLog(*a_, node.name()), Not(HasSubstr("LABRACK-READY")));
  }
  auto server = Shell(*a_, "server");
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(server->Run("hostname"), IsOkAndHolds(std::string("server\nexit=0")));
  EXPECT_THAT(server->Run("grep ^root: /etc/shadow | cut -d: -f2"),
              IsOkAndHolds(HashOf('a') + "\nexit=0"));
}

TEST_F(Templates, ASecondSandboxIsRestoredPastItsMarkerAndWorks) {
  auto st = env_->Get(*b_);
  ASSERT_OK(st);
  for (const v1::NodeStatus& node : st->nodes()) {
    EXPECT_EQ(node.phase(), v1::NODE_PHASE_READY) << node.name();
    EXPECT_TRUE(fs::exists(Stamp(*b_, node.name()))) << node.name();
  }
  auto server = Shell(*b_, "server");
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(server->Run("hostname"), IsOkAndHolds(std::string("server\nexit=0")));
  // It did not boot: its kernel has been up since before sandbox A's save.
  auto uptime = server->Run("cut -d. -f1 /proc/uptime");
  ASSERT_OK(uptime);
  EXPECT_GE(std::stoi(*uptime), 2) << *uptime;
  // Yet its clock is the host's, and root's password is sandbox B's, not A's.
  const int64_t before = absl::ToUnixSeconds(absl::Now());
  auto clock = server->Run("date +%s");
  const int64_t after = absl::ToUnixSeconds(absl::Now());
  ASSERT_OK(clock);
  const int64_t guest = std::stoll(*clock);
  EXPECT_GE(guest, before - 1) << *clock;
  EXPECT_LE(guest, after + 1) << *clock;
  EXPECT_THAT(server->Run("grep ^root: /etc/shadow | cut -d: -f2"),
              IsOkAndHolds(HashOf('b') + "\nexit=0"));
  EXPECT_THAT(server->Run("grep -c labracka /proc/cmdline /etc/shadow"),
              IsOkAndHolds(HasSubstr("exit=1")));
  // Its NICs work on sandbox B's own bridges: the switch and the storage node answer.
  EXPECT_THAT(server->Run(absl::StrCat("ping -c 2 -W 2 ", NodeAddress(*st, "switch", 1),
                                       " >/dev/null 2>&1")),
              IsOkAndHolds(std::string("exit=0")));
  EXPECT_THAT(server->Run(absl::StrCat("ping -c 2 -W 2 ", NodeAddress(*st, "storage", 0),
                                       " >/dev/null 2>&1")),
              IsOkAndHolds(std::string("exit=0")));
  auto storage = Shell(*b_, "storage");
  ASSERT_NE(storage, nullptr);
  EXPECT_THAT(storage->Run("cat /sys/block/vde/size"), IsOkAndHolds(std::string("2097152\nexit=0")));
  // No copy of a memory state is left beside the sandbox.
  for (const auto& f : fs::recursive_directory_iterator(env_->state_dir() + "/sandboxes")) {
    EXPECT_THAT(f.path().string(), Not(HasSubstr(".sav")));
  }
}

TEST_F(Templates, AResetRestoresAgainAndDiscardsWhatTheCandidateWrote) {
  {
    auto server = Shell(*b_, "server");
    ASSERT_NE(server, nullptr);
    ASSERT_THAT(server->Run("echo exam-work > /root/answer.txt && sync && cat /root/answer.txt"),
                IsOkAndHolds(std::string("exam-work\nexit=0")));
    auto storage = Shell(*b_, "storage");
    ASSERT_NE(storage, nullptr);
    ASSERT_THAT(storage->Run("echo raid | dd of=/dev/vdb conv=fsync 2>/dev/null"),
                IsOkAndHolds(std::string("exit=0")));
  }
  absl::Time start = absl::Now();
  auto st = env_->Reset(*b_, 2);
  ASSERT_OK(st);
  ASSERT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->DebugString();
  std::cout << "reset: " << absl::Now() - start << "\n";
  auto server = Shell(*b_, "server");
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(server->Run("test -e /root/answer.txt"), IsOkAndHolds(std::string("exit=1")));
  auto storage = Shell(*b_, "storage");
  ASSERT_NE(storage, nullptr);
  EXPECT_THAT(storage->Run("dd if=/dev/vdb bs=4 count=1 2>/dev/null | od -An -c | tr -d ' \\n'"),
              IsOkAndHolds(std::string("\\0\\0\\0\\0exit=0")));
  EXPECT_THAT(env_->SerialLog(*b_, "server"), Not(HasSubstr("LABRACK-READY")));  // no boot
}

TEST_F(Templates, ATemplateThatIsNoSaveImageFallsBackToABoot) {
  // The switch's template loses its magic; the other two stay good.
  std::string broken;
  for (const std::string& folder : TemplateFolders()) {
    std::ifstream meta(folder + "/template.json");
    std::string text((std::istreambuf_iterator<char>(meta)), {});
    if (text.find("\"node\":\"switch\"") == std::string::npos) continue;
    std::fstream f(TemplateStore::StatePath(folder), std::ios::in | std::ios::out);
    f.write("NotLibvirtSave!!", 16);
    broken = folder;
  }
  ASSERT_FALSE(broken.empty());
  const std::string c = NewUuid4();
  auto st = env_->Create(c, *topology_, true);
  ASSERT_OK(st);
  ASSERT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->DebugString();
  // The broken template was dropped and the switch's boot made a good one in its place.
  EXPECT_TRUE(TemplateIsASaveImage(broken));
  EXPECT_EQ(TemplateFolders().size(), 3u);
  for (const v1::NodeStatus& node : st->nodes()) EXPECT_TRUE(fs::exists(Stamp(c, node.name())));
  EXPECT_THAT(env_->Destroy(c), IsOkAndHolds(true));
}

}  // namespace
}  // namespace labrack::worker
