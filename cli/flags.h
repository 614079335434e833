// Flag types labrackctl's commands share: durations ("10m"), labels ("key=value"), image
// overrides ("debian-server=tiny") and sandbox phases ("ready"), checked by CLI11 so that a bad value is a usage error (exit 2).
// Pure functions; thread-safe.
#ifndef LABRACK_CLI_FLAGS_H_
#define LABRACK_CLI_FLAGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "labrack/v1/types.pb.h"

namespace labrack::cli {

// A --ttl as the API's ttl_seconds: whole seconds, rounded up so that a short but positive
// --ttl never means "never". InvalidArgument naming --ttl beyond 32 bits.
absl::StatusOr<uint32_t> TtlSeconds(absl::Duration ttl);

// Adds `name` taking a duration in Go syntax ("90s", "10m", "1h30m"), stored in `*out`,
// whose initial value is shown as the default. Positive, or also 0 with `zero_ok`.
CLI::Option* AddDurationOption(CLI::App& app, const std::string& name, absl::Duration* out,
                               const std::string& description, bool zero_ok = false);

// Adds a repeatable `--label key=value` collecting into `*out`.
CLI::Option* AddLabelOption(CLI::App& app, std::vector<std::string>* out,
                            const std::string& description);

// "key=value" pairs (already checked by the label option) as a map; the last value of a
// repeated key wins.
std::map<std::string, std::string> LabelMap(const std::vector<std::string>& labels);

// Adds a repeatable `--image-override NAME=OTHER` collecting into `*out`; a value without
// '=' or with an empty side is a usage error naming the flag.
CLI::Option* AddImageOverrideOption(CLI::App& app, std::vector<std::string>* out,
                                    const std::string& description);
// "NAME=OTHER" pairs (already checked by the option) as a map; the last value of a repeated
// name wins.
std::map<std::string, std::string> ImageOverrideMap(const std::vector<std::string>& overrides);

// Adds `--phase P` (see ParsePhase) storing the text in `*out`.
CLI::Option* AddPhaseOption(CLI::App& app, std::string* out, const std::string& description);

// "ready", "READY" or "SANDBOX_PHASE_READY"; nullopt for anything else.
std::optional<v1::SandboxPhase> ParsePhase(absl::string_view text);
// "pending, scheduled, ..." for help and errors.
std::string AllPhaseWords();

}  // namespace labrack::cli

#endif  // LABRACK_CLI_FLAGS_H_
