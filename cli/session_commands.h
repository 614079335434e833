// `labrackctl session create|get|list|end`: exam sessions, one sandbox of a topology for
// each candidate, provisioned before the start and frozen, kept and torn down at the end.
// Not thread-safe (see CommandContext).
#ifndef LABRACK_CLI_SESSION_COMMANDS_H_
#define LABRACK_CLI_SESSION_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "cli/command_context.h"

namespace labrack::cli {

// Adds the `session` command group under `root`; the chosen command becomes ctx's action.
void AddSessionCommands(CLI::App& root, CommandContext& ctx);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_SESSION_COMMANDS_H_
