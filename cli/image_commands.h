// `labrackctl image import MANIFEST|list`: guest images in the controller's store.
// Not thread-safe (see CommandContext).
#ifndef LABRACK_CLI_IMAGE_COMMANDS_H_
#define LABRACK_CLI_IMAGE_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "cli/command_context.h"

namespace labrack::cli {

// Adds the `image` command group under `root`; the chosen command becomes ctx's action.
void AddImageCommands(CLI::App& root, CommandContext& ctx);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_IMAGE_COMMANDS_H_
