// `labrackctl sandbox create|list|get|reset|destroy|console` (and capture|clone, see
// capture_commands.h): per-candidate lab sandboxes.
// Not thread-safe (see CommandContext).
#ifndef LABRACK_CLI_SANDBOX_COMMANDS_H_
#define LABRACK_CLI_SANDBOX_COMMANDS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "cli/command_context.h"

namespace labrack::cli {

// Adds the `sandbox` command group under `root`; the chosen command becomes ctx's action.
void AddSandboxCommands(CLI::App& root, CommandContext& ctx);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_SANDBOX_COMMANDS_H_
