// `labrackctl topology coverage [FILE...]` and `topology graph FILE --format dot|svg|png`:
// the commands that help exam designers and trainers read topologies. Not thread-safe (see
// CommandContext).
#ifndef LABRACK_CLI_TOPOLOGY_TOOL_COMMANDS_H_
#define LABRACK_CLI_TOPOLOGY_TOOL_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "cli/command_context.h"

namespace labrack::cli {

// Adds `coverage` and `graph` under the `topology` command group.
void AddTopologyToolCommands(CLI::App& topology, CommandContext& ctx);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_TOPOLOGY_TOOL_COMMANDS_H_
