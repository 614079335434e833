// `labrackctl sandbox capture|clone`: a prepared sandbox's disks as images, and new
// sandboxes of its current state. Not thread-safe (see CommandContext).
#ifndef LABRACK_CLI_CAPTURE_COMMANDS_H_
#define LABRACK_CLI_CAPTURE_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "cli/command_context.h"

namespace labrack::cli {

// Adds `capture` and `clone` to the `sandbox` command group.
void AddCaptureCommands(CLI::App& sandbox_group, CommandContext& ctx);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_CAPTURE_COMMANDS_H_
