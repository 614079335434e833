// What labrackctl adds to a controller's error: the controller speaks in API terms ("import
// it first (ImportImage)"), and the hint names the labrackctl command or flag that does it.
// Pure functions; thread-safe.
#ifndef LABRACK_CLI_ERROR_HINTS_H_
#define LABRACK_CLI_ERROR_HINTS_H_

#include <string>

#include "absl/status/status.h"

namespace labrack::cli {

// A line to print after the error, chosen by the status code and the call the message
// names; empty when there is nothing to add.
std::string HintFor(const absl::Status& status);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_ERROR_HINTS_H_
