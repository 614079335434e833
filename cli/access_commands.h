// Token and audit commands: `token create|list|revoke` (admin tokens) and `audit list`
// (admin and operator tokens).
#ifndef LABRACK_CLI_ACCESS_COMMANDS_H_
#define LABRACK_CLI_ACCESS_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "cli/command_context.h"

namespace labrack::cli {

void AddAccessCommands(CLI::App& root, CommandContext& ctx);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_ACCESS_COMMANDS_H_
