// Templates in the worker's logic, on FakeHypervisor (whose save images are real libvirt
// headers over a fake memory state): which builds boot, which restore, and what falls back.
#include "worker/sandbox/node_templates.h"

#include "absl/strings/escaping.h"
#include "worker/hypervisor/save_image.h"

#include <filesystem>
#include <fstream>

#include "worker/sandbox/sandbox_manager_test_fixture.h"

namespace labrack::worker {
namespace {

namespace fs = std::filesystem;
using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kIdA[] = "aaaa0001-0000-4000-8000-000000000001";
constexpr char kIdB[] = "bbbb0002-0000-4000-8000-000000000002";
const absl::Time kNow = absl::FromUnixSeconds(1'900'000'000) + absl::Nanoseconds(123);
const std::string kHashA = "$6$saltsalt$" + std::string(86, 'a');
const std::string kHashB = "$6$saltsalt$" + std::string(86, 'b');

// The agent commands of `domain` whose name is `execute`.
std::vector<std::string> Commands(const FakeHypervisor& hv, const std::string& domain,
                                  const std::string& execute) {
  std::vector<std::string> out;
  for (const std::string& c : hv.agent_commands(domain)) {
    if (c.find("\"" + execute + "\"") != std::string::npos) out.push_back(c);
  }
  return out;
}

class NodeTemplatesTest : public SandboxManagerTest {
 protected:
  void SetUp() override {
    SandboxManagerTest::SetUp();
    config_.template_dir = root_ + "/templates";
    config_.clock = [] { return kNow; };
    config_.identity_timeout = absl::Milliseconds(300);
    Restart(&fake_);
    ASSERT_NE(manager_->templates(), nullptr);
  }
  v1::SandboxStatus CreateReady(const std::string& id) {
    absl::StatusOr<v1::SandboxStatus> st = manager_->CreateSandbox(Spec(id), /*wait_ready=*/true);
    EXPECT_OK(st);
    return st.ok() ? *st : v1::SandboxStatus();
  }
  std::string Dom(const std::string& id, const std::string& node) { return DomainName(id, node); }
  std::string TemplateFolder(const std::string& node) {
    for (const v1::NodeTemplate& t : manager_->templates()->store()->List()) {
      if (t.node() == node) return config_.template_dir + "/" + t.key();
    }
    return "";
  }
};

TEST_F(NodeTemplatesTest, TheFirstBuildBootsEachNodeAndMakesItATemplate) {
  EXPECT_EQ(CreateReady(kIdA).phase(), v1::SANDBOX_PHASE_READY);
  for (const char* node : {"server", "storage"}) {
    EXPECT_EQ(fake_.starts(Dom(kIdA, node)), 1) << node;
    // Saved once its marker was out, then run on from that state.
    EXPECT_EQ(fake_.restores(Dom(kIdA, node)), 1) << node;
  }
  std::vector<v1::NodeTemplate> list = manager_->templates()->store()->List();
  ASSERT_EQ(list.size(), 2u);  // the storage node's disks make it another machine
  EXPECT_NE(list[0].key(), list[1].key());
  for (const v1::NodeTemplate& t : list) {
    EXPECT_EQ(t.topology(), "mini");
    EXPECT_EQ(t.hypervisor(), "FAKE 1.0");
    EXPECT_GT(t.size_bytes(), 0u);
    EXPECT_THAT(t.images(), ::testing::ElementsAre(HasSubstr("tiny@")));
  }
  EXPECT_EQ(fs::file_size(TemplateFolder("storage") + "/volume-0.qcow2"),
            fs::file_size(fake_.DomainDefinition(Dom(kIdA, "storage"))->disks[0].path));
}

TEST_F(NodeTemplatesTest, LaterSandboxesAndResetsRestoreInsteadOfBooting) {
  CreateReady(kIdA);
  EXPECT_EQ(CreateReady(kIdB).phase(), v1::SANDBOX_PHASE_READY);
  for (const char* node : {"server", "storage"}) {
    EXPECT_EQ(fake_.starts(Dom(kIdB, node)), 0) << node;
    EXPECT_EQ(fake_.restores(Dom(kIdB, node)), 1) << node;
  }
  // The new sandbox's volumes start as the template's frozen ones.
  std::ifstream vol(fake_.DomainDefinition(Dom(kIdB, "server"))->disks[0].path);
  std::string content((std::istreambuf_iterator<char>(vol)), {});
  EXPECT_THAT(content, HasSubstr(absl::StrCat("fake volume ", RootVolumeName(kIdA, "server"))));

  absl::StatusOr<v1::SandboxStatus> reset = manager_->ResetSandbox(kIdB, 2, true);
  ASSERT_OK(reset);
  EXPECT_EQ(reset->phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(fake_.starts(Dom(kIdB, "server")), 0);
  EXPECT_EQ(fake_.restores(Dom(kIdB, "server")), 2);

  reset = manager_->ResetSandbox(kIdB, 3, true, {"storage"});
  ASSERT_OK(reset);
  EXPECT_EQ(reset->phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(fake_.restores(Dom(kIdB, "server")), 2);
  EXPECT_EQ(fake_.restores(Dom(kIdB, "storage")), 3);
  for (const v1::NodeTemplate& t : manager_->templates()->store()->List()) {
    EXPECT_EQ(t.hits(), t.node() == "server" ? 2u : 3u) << t.node();
  }
}

TEST_F(NodeTemplatesTest, ARestoredSandboxStaysReadyAcrossAWorkerRestart) {
  CreateReady(kIdA);
  CreateReady(kIdB);
  Restart(&fake_);
  absl::StatusOr<v1::SandboxStatus> st = manager_->GetSandbox(kIdB);
  ASSERT_OK(st);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_READY);
}

TEST_F(NodeTemplatesTest, ACorruptOrForeignStateFallsBackToABootAndIsCounted) {
  CreateReady(kIdA);
  // Not a libvirt save image at all, for the server; a future format, for the storage node.
  std::ofstream(TemplateFolder("server") + "/memory.sav", std::ios::trunc) << "garbage";
  {
    std::fstream f(TemplateFolder("storage") + "/memory.sav", std::ios::in | std::ios::out);
    f.seekp(16);
    f.put(3);
  }
  EXPECT_EQ(CreateReady(kIdB).phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(fake_.starts(Dom(kIdB, "server")), 1);
  EXPECT_EQ(fake_.starts(Dom(kIdB, "storage")), 1);
  EXPECT_EQ(manager_->templates()->fallbacks(), 2u);
  // Both were dropped, and the boots made them anew.
  for (const char* node : {"server", "storage"}) {
    EXPECT_OK(ReadSaveImageHeader(TemplateFolder(node) + "/memory.sav").status()) << node;
  }
  EXPECT_EQ(fake_.domain_count(), 4);
  EXPECT_EQ(fake_.volume_count(), 2 * 4);
}

TEST_F(NodeTemplatesTest, NothingOfTheSandboxIsInATemplatedNodesCommandLine) {
  v1::SandboxSpec spec = Spec(kIdA);
  spec.set_console_password_hash("$6$abcdefgh$" + std::string(86, 'x'));
  ASSERT_OK(manager_->CreateSandbox(spec, true));
  EXPECT_THAT(fake_.DomainDefinition(Dom(kIdA, "server"))->cmdline, Not(HasSubstr("password")));
  // The key names no sandbox: the same node of another sandbox has the same one.
  PlanContext ctx;
  ctx.templates = true;
  ctx.resolve_image = [this](const std::string& name) { return images_->Lookup(name); };
  ctx.sandbox_dir = root_ + "/x";
  absl::StatusOr<SandboxPlan> a = PlanSandbox(Spec(kIdA), ctx);
  ctx.sandbox_dir = root_ + "/y";
  absl::StatusOr<SandboxPlan> b = PlanSandbox(Spec(kIdB), ctx);
  ASSERT_OK(a);
  ASSERT_OK(b);
  NodeTemplates* t = manager_->templates();
  EXPECT_EQ(t->KeyFor(a->nodes[0]), t->KeyFor(b->nodes[0]));
  EXPECT_NE(t->KeyFor(a->nodes[0]), t->KeyFor(a->nodes[1]));
  NodePlan bigger = a->nodes[0];
  bigger.domain.memory_mib *= 2;
  EXPECT_NE(t->KeyFor(a->nodes[0]), t->KeyFor(bigger));
}

TEST_F(NodeTemplatesTest, EveryRestoredGuestGetsItsOwnClockEntropyAndPassword) {
  v1::SandboxSpec a = Spec(kIdA);
  a.set_console_password_hash(kHashA);
  ASSERT_OK(manager_->CreateSandbox(a, true));
  v1::SandboxSpec b = Spec(kIdB);
  b.set_console_password_hash(kHashB);
  ASSERT_OK(manager_->CreateSandbox(b, true));
  std::vector<std::string> entropy;
  for (const std::string& id : {std::string(kIdA), std::string(kIdB)}) {
    const std::string dom = Dom(id, "server");
    const std::string hash = id == kIdA ? kHashA : kHashB;
    EXPECT_THAT(Commands(fake_, dom, "guest-set-time"),
                ::testing::ElementsAre(HasSubstr(absl::StrCat("\"time\":", absl::ToUnixNanos(kNow)))));
    std::vector<std::string> passwords = Commands(fake_, dom, "guest-set-user-password");
    ASSERT_EQ(passwords.size(), 1u) << id;
    EXPECT_THAT(passwords[0], HasSubstr(absl::Base64Escape(hash)));
    EXPECT_THAT(passwords[0], HasSubstr("\"crypted\":true"));
    std::vector<std::string> writes = Commands(fake_, dom, "guest-file-write");
    ASSERT_EQ(writes.size(), 1u) << id;
    entropy.push_back(writes[0]);
    EXPECT_THAT(Commands(fake_, dom, "guest-file-open"),
                ::testing::ElementsAre(HasSubstr("/dev/urandom")));
    EXPECT_EQ(Commands(fake_, dom, "guest-file-close").size(), 1u);
  }
  EXPECT_NE(entropy[0], entropy[1]);
  // And the other sandbox's password reached neither the template nor a command line.
  for (const std::string& folder : {TemplateFolder("server"), TemplateFolder("storage")}) {
    std::ifstream state(folder + "/memory.sav");
    std::string text((std::istreambuf_iterator<char>(state)), {});
    EXPECT_THAT(text, Not(HasSubstr("saltsalt"))) << folder;
  }
}

TEST_F(NodeTemplatesTest, AGuestWhoseAgentDoesNotAnswerBootsWithItsPasswordOnItsCommandLine) {
  CreateReady(kIdA);
  fake_.set_agents(false);
  v1::SandboxSpec b = Spec(kIdB);
  b.set_console_password_hash(kHashB);
  absl::StatusOr<v1::SandboxStatus> st = manager_->CreateSandbox(b, true);
  ASSERT_OK(st);
  EXPECT_EQ(st->phase(), v1::SANDBOX_PHASE_READY);
  // The restore failed, so did the boot's own save and restore: booted once more, as a
  // node without a template.
  EXPECT_EQ(fake_.starts(Dom(kIdB, "server")), 2);
  EXPECT_THAT(fake_.DomainDefinition(Dom(kIdB, "server"))->cmdline,
              HasSubstr("labrack.password_hash=" + kHashB));
  EXPECT_EQ(manager_->templates()->fallbacks(), 4u);  // two nodes, twice each
}

TEST_F(NodeTemplatesTest, ANewVersionOfTheImageRemovesItsTemplatesOnTheNextPass) {
  CreateReady(kIdA);
  manager_->AdoptStrays();  // the image is unchanged: nothing goes
  EXPECT_EQ(manager_->templates()->store()->List().size(), 2u);
  v1::ImageManifest v2 = labrack::testing::WriteFakeImage(root_ + "/src2", "tiny");
  v2.set_version("2");
  ASSERT_OK(images_->ImportFromFolder(v2, root_ + "/src2"));
  config_.adopt_interval = absl::ZeroDuration();
  Restart(&fake_);  // a pass runs at once
  manager_->AdoptStrays();
  EXPECT_TRUE(manager_->templates()->store()->List().empty());
  EXPECT_TRUE(fs::is_empty(config_.template_dir));
}

TEST_F(NodeTemplatesTest, DestroyRemovesTheSandboxButKeepsTheHostsTemplates) {
  CreateReady(kIdA);
  ASSERT_OK(manager_->DestroySandbox(kIdA).status());
  EXPECT_EQ(fake_.domain_count(), 0);
  EXPECT_EQ(fake_.volume_count(), 0);
  EXPECT_EQ(manager_->templates()->store()->List().size(), 2u);
  EXPECT_FALSE(fs::exists(root_ + "/state/sandboxes/" + std::string(kIdA)));
}

}  // namespace
}  // namespace labrack::worker
