// labrackctl's exit codes, chosen by what a script should do next, and the mapping from
// an absl::Status (usually a controller's gRPC status) to them. Pure functions;
// thread-safe.
#ifndef LABRACK_CLI_EXIT_CODES_H_
#define LABRACK_CLI_EXIT_CODES_H_

#include "absl/status/status.h"

namespace labrack::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;          // generic or internal error
inline constexpr int kExitUsage = 2;          // bad flags or arguments
inline constexpr int kExitNotFound = 3;       // NOT_FOUND: unknown sandbox, host, file...
inline constexpr int kExitInvalid = 4;        // INVALID_ARGUMENT, FAILED_PRECONDITION
inline constexpr int kExitUnavailable = 5;    // UNAVAILABLE: unreachable, or not ready yet
inline constexpr int kExitExhausted = 6;      // RESOURCE_EXHAUSTED: no host fits
inline constexpr int kExitSandboxFailed = 7;  // the sandbox became FAILED or LOST (--wait)
inline constexpr int kExitTimeout = 8;        // a deadline passed (--timeout, RPC deadline)
// A session ENDED, but its report says something was left on a host (or could not be
// checked): someone must clean up by hand before the capacity is trusted again.
inline constexpr int kExitLeftovers = 9;
// UNAUTHENTICATED (no token, or a malformed, unknown, expired or revoked one) or
// PERMISSION_DENIED (the token's role may not, or not on that object).
inline constexpr int kExitDenied = 10;

// The text of `labrackctl --help`'s footer.
inline constexpr char kExitCodesHelp[] =
    "Exit codes:\n"
    "  0  ok\n"
    "  1  generic or internal error\n"
    "  2  usage: bad flags or arguments\n"
    "  3  not found (sandbox, host, topology, file)\n"
    "  4  invalid argument or failed precondition (the message names field and rule)\n"
    "  5  unavailable: labrack-controller cannot be reached (see --server), or what was\n"
    "     asked for is not ready yet (e.g. no sandbox of the pool is READY); try again\n"
    "  6  resource exhausted: no host has room\n"
    "  7  the sandbox became FAILED or LOST while waiting (session: a candidate's)\n"
    "  8  timeout (--timeout or an RPC deadline)\n"
    "  9  a session ended but left something on a host (see its report)\n"
    "  10 not allowed: no valid token (see --token), or its role may not do that";

// `status` carrying an explicit exit code, which ExitCodeFor prefers to its code.
absl::Status WithExitCode(absl::Status status, int exit_code);

// kExitOk for OK; the code attached by WithExitCode if any; else by status code as listed
// above, kExitError for the rest.
int ExitCodeFor(const absl::Status& status);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_EXIT_CODES_H_
