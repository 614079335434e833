// labrackctl as a library: parses a command line, runs the chosen command against
// LabController and returns the process exit code (see exit_codes.h). Tests call RunCli
// in-process with string streams. Each call is independent; calls may run concurrently
// on different streams.
#ifndef LABRACK_CLI_CLI_H_
#define LABRACK_CLI_CLI_H_

#include <istream>
#include <ostream>

#include "cli/command_context.h"

namespace labrack::cli {

// Runs `labrackctl argv[1..]` with `io`; results go to io.out, progress and "error: ..."
// messages to io.err.
int RunCli(int argc, const char* const* argv, const Io& io);

// The same with streams that are not terminals.
int RunCli(int argc, const char* const* argv, std::istream& in, std::ostream& out,
           std::ostream& err);

// The same on the process's stdin, stdout and stderr, detecting terminals (for main.cc).
int RunCliOnProcessStreams(int argc, const char* const* argv);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_CLI_H_
