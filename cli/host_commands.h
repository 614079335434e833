// `labrackctl host list|drain HOST|undrain HOST`: the KVM hosts the controller knows and
// whether they take new sandboxes. Not thread-safe (see CommandContext).
#ifndef LABRACK_CLI_HOST_COMMANDS_H_
#define LABRACK_CLI_HOST_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "cli/command_context.h"

namespace labrack::cli {

// Adds the `host` command group under `root`; the chosen command becomes ctx's action.
void AddHostCommands(CLI::App& root, CommandContext& ctx);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_HOST_COMMANDS_H_
