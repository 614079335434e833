// labrackctl sandbox console in-process against an in-memory LabController whose console
// echoes: scripted stdin, the idle timeout, and a real pseudo-terminal in raw mode.
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/testing/cli_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labrack::cli::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST_F(CliTest, ConsoleWithScriptedStdinRelaysBytesAndEnds) {
  AddReadySandbox(kReadyId, "cand-1");
  std::string input = "echo hello\n\x1d binary is passed through\n";
  CliResult r = Run({"sandbox", "console", kReadyId, "--node", "server"}, input);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(fake_->console_input(), input);
  EXPECT_EQ(r.out, input) << "the fake echoes";
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("Connected to server of sandbox ", kReadyId,
                                            "; escape with Ctrl-]")));
}

TEST_F(CliTest, ConsoleEndsAfterTheIdleTimeoutWhenTheControllerKeepsStreaming) {
  AddReadySandbox(kReadyId, "cand-1");
  fake_->SetConsoleEndsOnHalfClose(false);
  absl::Time start = absl::Now();
  CliResult r = Run({"sandbox", "console", kReadyId, "--node", "server", "--idle-timeout", "200ms"},
                    "uname -a\n");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "uname -a\n");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(CliTest, ConsoleOnATerminalDetachesOnCtrlBracketAndRestoresTheTerminal) {
  AddReadySandbox(kReadyId, "cand-1");
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  absl::Cleanup close_pty = [&] {
    close(master);
    close(slave);
  };
  termios before;
  ASSERT_EQ(tcgetattr(slave, &before), 0);
  std::string server = fake_->address();
  std::vector<const char*> argv = {"labrackctl", "--server", server.c_str(), "sandbox",
                                   "console",    kReadyId,   "--node",       "server"};
  std::istringstream in;
  std::ostringstream out, err;
  Io io{in, out, err};
  io.stdin_is_tty = true;
  io.stdin_fd = slave;
  int code = -1;
  std::thread cli([&] { code = RunCli(static_cast<int>(argv.size()), argv.data(), io); });
  // Raw mode flushes what was typed before it: type once it is on.
  bool raw = Eventually([&] {
    termios now;
    return tcgetattr(slave, &now) == 0 && (now.c_lflag & ICANON) == 0;
  });
  if (raw) {
    EXPECT_EQ(write(master, "ls\r\x03", 4), 4);  // Ctrl-C goes to the guest too
    EXPECT_TRUE(Eventually([&] { return fake_->console_input() == "ls\r\x03"; }));
  }
  EXPECT_EQ(write(master, "\x1d", 1), 1);
  cli.join();
  ASSERT_TRUE(raw) << "the console never put the terminal in raw mode";
  EXPECT_EQ(code, kExitOk) << err.str();
  // The echo may still be on its way when Ctrl-] cancels the call: what came is in order.
  EXPECT_THAT(std::string("ls\r\x03"), StartsWith(out.str()));
  EXPECT_THAT(err.str(), HasSubstr("escape with Ctrl-]"));
  termios after;
  ASSERT_EQ(tcgetattr(slave, &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);
  EXPECT_EQ(after.c_oflag, before.c_oflag);
}

TEST_F(CliTest, ConsoleOnATerminalReportsAnUnknownNodeAndRestoresTheTerminal) {
  AddReadySandbox(kReadyId, "cand-1");
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  absl::Cleanup close_pty = [&] {
    close(master);
    close(slave);
  };
  termios before;
  ASSERT_EQ(tcgetattr(slave, &before), 0);
  std::string server = fake_->address();
  std::vector<const char*> argv = {"labrackctl", "--server", server.c_str(), "sandbox",
                                   "console", kReadyId, "--node", "nope"};
  std::istringstream in;
  std::ostringstream out, err;
  Io io{in, out, err};
  io.stdin_is_tty = true;
  io.stdin_fd = slave;
  EXPECT_EQ(RunCli(static_cast<int>(argv.size()), argv.data(), io), kExitNotFound);
  EXPECT_THAT(err.str(), HasSubstr("error: sandbox 5a5a5a5a-0000-4000-8000-000000000001 has no "
                                   "node nope"));
  termios after;
  ASSERT_EQ(tcgetattr(slave, &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
}

TEST_F(CliTest, ConsoleOfAnUnknownNodeExitsThree) {
  AddReadySandbox(kReadyId, "cand-1");
  CliResult r = Run({"sandbox", "console", kReadyId, "--node", "nope"}, "x");
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_THAT(r.err, HasSubstr("has no node nope"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("Connected"))) << "a refused attach never connected";
}

}  // namespace
}  // namespace labrack::cli::testing
