// RunHostCommand with real child processes (sh, sleep), and the tc command line that
// shapes the host side of a link.
#include "worker/host/host_command.h"

#include <pthread.h>
#include <signal.h>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "worker/host/host_netem.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RunHostCommand, SucceedsWhenTheCommandExitsZero) {
  EXPECT_OK(RunHostCommand({"true"}, absl::Seconds(10)));
}

TEST(RunHostCommand, NamesTheCommandItsExitAndItsErrorOutput) {
  absl::Status s = RunHostCommand({"sh", "-c", "echo \"bad: $1\" >&2; exit 3", "sh", "a b; c"},
                                  absl::Seconds(10));
  // The argument reached the child whole: no shell split it or ran "c".
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInternal,
                          AllOf(HasSubstr("`sh -c"), HasSubstr("exited 3"), HasSubstr("bad: a b; c"))));
}

TEST(RunHostCommand, NotFoundForAMissingProgram) {
  EXPECT_THAT(RunHostCommand({"labrack-no-such-program"}, absl::Seconds(10)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("labrack-no-such-program")));
}

TEST(RunHostCommand, KillsACommandThatOutlivesItsDeadline) {
  absl::Time start = absl::Now();
  EXPECT_THAT(RunHostCommand({"sleep", "30"}, absl::Milliseconds(200)),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("sleep 30")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(20)) << "it waited for sleep to end";
}

TEST(RunHostCommandWithIo, GivesTheInputAndReturnsTheOutput) {
  absl::StatusOr<std::string> out =
      RunHostCommandWithIo({"sh", "-c", "tr a-z A-Z; echo done"}, "table one\n", absl::Seconds(10));
  ASSERT_OK(out);
  EXPECT_EQ(*out, "TABLE ONE\ndone\n");
}

TEST(RunHostCommandWithIo, AChildThatReadsNoInputIsNoError) {
  const std::string big(1 << 20, 'x');  // more than a pipe holds
  absl::StatusOr<std::string> out = RunHostCommandWithIo({"true"}, big, absl::Seconds(10));
  EXPECT_OK(out);
}

TEST(RunHostCommandWithIo, ReadsOutputLargerThanAPipe) {
  absl::StatusOr<std::string> out =
      RunHostCommandWithIo({"head", "-c", "300000", "/dev/zero"}, "", absl::Seconds(10));
  ASSERT_OK(out);
  EXPECT_EQ(out->size(), 300000u);
}

// The worker ignores SIGPIPE and blocks SIGTERM; the commands it runs must not inherit that
// (a `tc` or `qemu-img` would then outlive a kill, or write on to a closed pipe).
TEST(RunHostCommand, TheChildGetsDefaultSignalHandlingBack) {
  struct sigaction ignore {}, before_pipe {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &before_pipe);
  sigset_t term, before_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &before_mask);
  absl::Status pipe = RunHostCommand({"sh", "-c", "kill -PIPE $$; exit 0"}, absl::Seconds(10));
  absl::Status terminate = RunHostCommand({"sh", "-c", "kill -TERM $$; exit 0"}, absl::Seconds(10));
  pthread_sigmask(SIG_SETMASK, &before_mask, nullptr);
  sigaction(SIGPIPE, &before_pipe, nullptr);
  EXPECT_THAT(pipe, StatusIs(absl::StatusCode::kInternal, HasSubstr("killed by signal 13")));
  EXPECT_THAT(terminate, StatusIs(absl::StatusCode::kInternal, HasSubstr("killed by signal 15")));
}

TEST(RunHostCommand, RefusesAnEmptyCommand) {
  EXPECT_THAT(RunHostCommand({}, absl::Seconds(1)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HostNetemCommand, ReplacesTheTapsRootQdiscWithNetem) {
  EXPECT_THAT(HostNetemCommand("lr0123abcdv0101", "delay 30ms loss 0.1% rate 20000kbit"),
              ElementsAre("tc", "qdisc", "replace", "dev", "lr0123abcdv0101", "root", "netem",
                          "delay", "30ms", "loss", "0.1%", "rate", "20000kbit"));
}

}  // namespace
}  // namespace labrack::worker
