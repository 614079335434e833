// Unit tests of labrackctl's pieces that need no controller: tables, exit codes, flags,
// progress text and request ids.
#include "cli/output.h"

#include <sstream>

#include "absl/status/status.h"
#include "cli/error_hints.h"
#include "cli/exit_codes.h"
#include "cli/flags.h"
#include "cli/sandbox_commands.h"
#include "cli/wait_progress.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labrack::cli {
namespace {

TEST(Table, AlignsColumnsUnderTheirHeaders) {
  Table table({"ID", "PHASE"});
  table.AddRow({"a-long-id", "READY"});
  table.AddRow({"b", ""});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(),
            "ID          PHASE\n"
            "a-long-id   READY\n"
            "b           -\n");
}

TEST(Table, KeepsARowOnOneLine) {
  Table table({"MESSAGE"});
  table.AddRow({"line one\nline two"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(), "MESSAGE\nline one line two\n");
}

TEST(ErrorHints, NameTheLabrackctlCommandForWhatTheControllerAsksFor) {
  EXPECT_THAT(HintFor(absl::FailedPreconditionError(
                  "nodes[0].image: image 'x' was never imported; import it first (ImportImage)")),
              ::testing::HasSubstr("labrackctl image import MANIFEST"));
  EXPECT_THAT(
      HintFor(absl::NotFoundError("topology 'x' not found; apply it first (ApplyTopology)")),
              ::testing::HasSubstr("labrackctl topology apply FILE"));
  EXPECT_THAT(HintFor(absl::UnauthenticatedError("this call needs a token: send ...")),
              ::testing::HasSubstr("--token"));
  EXPECT_THAT(HintFor(absl::FailedPreconditionError(
                  "networks[wan].shape: a shaped link needs the link-emulator image 'linkemu' "
                  "on hosts without netem, and it was never imported; import it first "
                  "(ImportImage)")),
              ::testing::HasSubstr("images/build.sh linkemu"));
  EXPECT_EQ(HintFor(absl::NotFoundError("sandbox 1234abcd not found")), "");
  EXPECT_EQ(HintFor(absl::UnauthenticatedError("token 0123 is not valid")), "");
}

TEST(ExitCodes, FollowWhatTheCallerShouldDo) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), kExitOk);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), kExitNotFound);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("x")), kExitInvalid);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("x")), kExitInvalid);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("x")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::ResourceExhaustedError("x")), kExitExhausted);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("x")), kExitTimeout);
  EXPECT_EQ(ExitCodeFor(absl::DataLossError("x")), kExitError);
  EXPECT_EQ(ExitCodeFor(WithExitCode(absl::FailedPreconditionError("x"), kExitSandboxFailed)),
            kExitSandboxFailed);
}

TEST(Flags, PhasesAreReadInAnyCase) {
  EXPECT_EQ(ParsePhase("ready"), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(ParsePhase("LOST"), v1::SANDBOX_PHASE_LOST);
  EXPECT_EQ(ParsePhase("SANDBOX_PHASE_FAILED"), v1::SANDBOX_PHASE_FAILED);
  EXPECT_EQ(ParsePhase("unspecified"), std::nullopt);
  EXPECT_EQ(ParsePhase("sleeping"), std::nullopt);
  EXPECT_THAT(AllPhaseWords(), ::testing::StartsWith("pending, scheduled, provisioning"));
}

TEST(Flags, LabelsBecomeAMap) {
  auto labels = LabelMap({"exam=cloud-1", "room=b=2", "exam=cloud-2"});
  EXPECT_EQ(labels.at("exam"), "cloud-2");
  EXPECT_EQ(labels.at("room"), "b=2");
}

TEST(ProgressText, CountsReadyNodes) {
  v1::Sandbox s;
  s.set_sandbox_id("1a2b3c4d-0000-4000-8000-000000000000");
  s.set_phase(v1::SANDBOX_PHASE_PROVISIONING);
  s.add_nodes()->set_phase(v1::NODE_PHASE_READY);
  s.add_nodes()->set_phase(v1::NODE_PHASE_READY);
  s.add_nodes()->set_phase(v1::NODE_PHASE_BOOTING);
  EXPECT_EQ(ProgressText(s, 0, 0), "sandbox 1a2b3c4d: PROVISIONING 2/3 nodes ready");
  s.clear_nodes();
  EXPECT_EQ(ProgressText(s, 1, 4), "sandbox 1a2b3c4d: PROVISIONING 1/4 nodes ready");
  s.set_phase(v1::SANDBOX_PHASE_PENDING);
  s.set_message("no host has room yet");
  EXPECT_EQ(ProgressText(s, 0, 0), "sandbox 1a2b3c4d: PENDING (no host has room yet)");
}

}  // namespace
}  // namespace labrack::cli
