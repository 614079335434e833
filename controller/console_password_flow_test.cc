// The console password from the controller to the guests, in-process
// (controller_test_fixture.h): new for every sandbox, returned by create and get only, and
// handed to every guest of the sandbox as a crypt(3) hash on its kernel command line.
#include <set>

#include "common/names.h"
#include "controller/core/console_password.h"
#include "controller/controller_test_fixture.h"
#include "gmock/gmock.h"

namespace labrack::controller {
namespace {

using ::testing::HasSubstr;

// The value of kernel argument `name` in `cmdline`, or "".
std::string KernelArg(const std::string& cmdline, const std::string& name) {
  size_t at = cmdline.find(" " + name + "=");
  if (at == std::string::npos) return "";
  at += name.size() + 2;
  return cmdline.substr(at, cmdline.find(' ', at) - at);
}

TEST_F(ControllerTest, EverySandboxHasItsOwnConsolePasswordThatItsGuestsGetAsAHash) {
  auto a = Create("mini");
  auto b = Create("mini");
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(a->console_password().size(), static_cast<size_t>(kConsolePasswordLength));
  EXPECT_NE(a->console_password(), b->console_password());
  ASSERT_TRUE(WaitPhase(a->sandbox_id(), v1::SANDBOX_PHASE_READY));
  EXPECT_EQ(Get(a->sandbox_id()).console_password(), a->console_password());

  for (const char* node : {"server", "storage"}) {
    absl::StatusOr<worker::DomainSpec> spec = hv_.DomainDefinition(DomainName(a->sandbox_id(), node));
    ASSERT_OK(spec);
    std::string hash = KernelArg(spec->cmdline, "labrack.password_hash");
    EXPECT_EQ(hash, a->console_password_hash()) << spec->cmdline;
    EXPECT_TRUE(ConsolePasswordMatches(a->console_password(), hash)) << node;
    EXPECT_THAT(spec->cmdline, ::testing::Not(HasSubstr(a->console_password())))
        << "only the hash reaches the host's domain definitions";
  }
}

TEST_F(ControllerTest, ListsNeverCarryConsolePasswords) {
  auto a = Create("mini");
  ASSERT_OK(a);
  v1::ListSandboxesResponse list;
  ASSERT_OK(Call(&v1::LabController::Stub::ListSandboxes, v1::ListSandboxesRequest(), &list));
  ASSERT_EQ(list.sandboxes_size(), 1);
  EXPECT_EQ(list.sandboxes(0).sandbox_id(), a->sandbox_id());
  EXPECT_EQ(list.sandboxes(0).console_password(), "");
  EXPECT_EQ(list.sandboxes(0).console_password_hash(), "");
}

TEST_F(ControllerTest, AResetKeepsTheSandboxsConsolePassword) {
  auto a = Create("mini");
  ASSERT_OK(a);
  ASSERT_TRUE(WaitPhase(a->sandbox_id(), v1::SANDBOX_PHASE_READY));
  v1::ResetSandboxRequest req;
  req.set_sandbox_id(a->sandbox_id());
  v1::Sandbox reset;
  ASSERT_OK(Call(&v1::LabController::Stub::ResetSandbox, req, &reset));
  ASSERT_TRUE(Eventually([&] {
    v1::Sandbox s = Get(a->sandbox_id());
    return s.phase() == v1::SANDBOX_PHASE_READY && s.generation() == 2;
  }));
  EXPECT_EQ(Get(a->sandbox_id()).console_password(), a->console_password());
  absl::StatusOr<worker::DomainSpec> spec = hv_.DomainDefinition(DomainName(a->sandbox_id(), "server"));
  ASSERT_OK(spec);
  EXPECT_EQ(spec->tag.generation, 2u);
  EXPECT_EQ(KernelArg(spec->cmdline, "labrack.password_hash"), a->console_password_hash());
}

}  // namespace
}  // namespace labrack::controller
