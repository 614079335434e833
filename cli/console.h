// `labrackctl sandbox console ID --node N`: the terminal attached to a node's serial
// console through LabController.AttachConsole, like `virsh console`. On a terminal: raw
// mode, Ctrl-] detaches. Otherwise (scripts): stdin is sent until its end, then output is
// printed until the controller ends the stream or the console stays quiet for
// idle_timeout. Not thread-safe: one session per call, which uses two threads inside.
#ifndef LABRACK_CLI_CONSOLE_H_
#define LABRACK_CLI_CONSOLE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cli/command_context.h"
#include "cli/controller_client.h"

namespace labrack::cli {

// Ctrl-], the escape virsh uses as well.
inline constexpr char kConsoleEscape = 0x1d;

struct ConsoleOptions {
  std::string sandbox_id;
  std::string node;
  // Scripted use only: how long after stdin ended and the last output the session ends.
  absl::Duration idle_timeout = absl::Seconds(2);
  // Deadline of the whole session.
  absl::Duration session_timeout = absl::Hours(12);
};

// Relays io.in (or io.stdin_fd) to the console and the console to io.out; says
// "Connected to <node> of sandbox <id>; escape with Ctrl-]" on io.err. OK when the user
// escaped, the idle timeout passed or the controller ended the stream without error;
// otherwise the controller's status (NotFound for an unknown sandbox or node,
// FailedPrecondition when the node is not running, Unavailable when unreachable).
absl::Status RunConsole(ControllerClient& client, const ConsoleOptions& options, const Io& io);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_CONSOLE_H_
