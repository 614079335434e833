// `session create --start`: "now", an RFC 3339 time ("2026-12-01T09:00:00+08:00", "...Z")
// or "+DURATION" from now ("+15m"). Checked by CLI11 while parsing, so that a bad value is
// a usage error (exit 2) naming --start; turned into a time only when the command runs.
// Pure functions; thread-safe.
#ifndef LABRACK_CLI_START_TIME_H_
#define LABRACK_CLI_START_TIME_H_

#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace labrack::cli {

// The accepted forms, for help and errors.
inline constexpr char kStartTimeForms[] =
    "now, an RFC 3339 time such as 2026-12-01T09:00:00+08:00 or 2026-12-01T01:00:00Z, or "
    "+DURATION from now such as +15m";

// nullopt for "now" (the request leaves start_time unset); the time otherwise, relative
// forms counted from `now`. InvalidArgument naming --start and the accepted forms.
absl::StatusOr<std::optional<absl::Time>> ParseStartTime(absl::string_view text, absl::Time now);

// Adds `--start` storing its text in `*out` (empty: not given), checked with ParseStartTime.
CLI::Option* AddStartTimeOption(CLI::App& app, std::string* out, const std::string& description);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_START_TIME_H_
