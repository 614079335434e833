// `labrackctl pool create|get|list|delete|assign`: warm pools, READY sandboxes of a topology
// built ahead of time and handed to candidates on demand without provisioning.
// Not thread-safe (see CommandContext).
#ifndef LABRACK_CLI_POOL_COMMANDS_H_
#define LABRACK_CLI_POOL_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "cli/command_context.h"

namespace labrack::cli {

// Adds the `pool` command group under `root`; the chosen command becomes ctx's action.
void AddPoolCommands(CLI::App& root, CommandContext& ctx);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_POOL_COMMANDS_H_
