// `labrackctl topology apply FILE|validate FILE|list|show NAME` (and coverage and graph, from
// topology_tool_commands.h): lab topologies. Files are
// parsed here first, so that mistakes are reported with file:line before anything is sent.
// Not thread-safe (see CommandContext).
#ifndef LABRACK_CLI_TOPOLOGY_COMMANDS_H_
#define LABRACK_CLI_TOPOLOGY_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "cli/command_context.h"

namespace labrack::cli {

// Adds the `topology` command group under `root`; the chosen command becomes ctx's action.
void AddTopologyCommands(CLI::App& root, CommandContext& ctx);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_TOPOLOGY_COMMANDS_H_
