// CLI11 validators return an error string instead of throwing, so our code stays free of
// exceptions; CLI11 turns the string into a usage error.
#include "cli/flags.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace labrack::cli {

absl::StatusOr<uint32_t> TtlSeconds(absl::Duration ttl) {
  int64_t s = absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1)));
  if (s > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ttl: ", absl::FormatDuration(ttl), " is out of range"));
  }
  return static_cast<uint32_t>(std::max<int64_t>(s, 0));
}
namespace {

constexpr absl::string_view kPhasePrefix = "SANDBOX_PHASE_";

CLI::Validator DurationValidator(bool zero_ok) {
  return CLI::Validator(
      [zero_ok](std::string& text) -> std::string {
        absl::Duration d;
        if (absl::ParseDuration(text, &d) &&
            (d > absl::ZeroDuration() || (zero_ok && d == absl::ZeroDuration()))) {
          return "";
        }
        return "'" + text + "' is not a " + (zero_ok ? "duration (0 or more)" : "positive duration") +
               " such as 90s, 10m or 1h30m";
      },
      "DURATION");
}

CLI::Validator LabelValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t eq = text.find('=');
        if (eq != std::string::npos && eq > 0) return "";
        return "label '" + text + "' must be key=value with a non-empty key";
      },
      "KEY=VALUE");
}

CLI::Validator ImageOverrideValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t eq = text.find('=');
        if (eq != std::string::npos && eq > 0 && eq + 1 < text.size()) return "";
        // CLI11 puts the flag's name in front.
        return "'" + text +
               "' must be NAME=OTHER with both image names non-empty (e.g. debian-server=tiny)";
      },
      "NAME=OTHER");
}

CLI::Validator PhaseValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (ParsePhase(text).has_value()) return "";
        return "phase '" + text + "' is not one of " + AllPhaseWords();
      },
      "PHASE");
}

}  // namespace

CLI::Option* AddPhaseOption(CLI::App& app, std::string* out, const std::string& description) {
  return app.add_option("--phase", *out, description)->check(PhaseValidator());
}

CLI::Option* AddDurationOption(CLI::App& app, const std::string& name, absl::Duration* out,
                               const std::string& description, bool zero_ok) {
  return app
      .add_option_function<std::string>(
          name, [out](const std::string& text) { absl::ParseDuration(text, out); }, description)
      ->check(DurationValidator(zero_ok))
      ->default_str(absl::FormatDuration(*out));
}

CLI::Option* AddLabelOption(CLI::App& app, std::vector<std::string>* out,
                            const std::string& description) {
  return app.add_option("--label,-l", *out, description)->check(LabelValidator());
}

std::map<std::string, std::string> LabelMap(const std::vector<std::string>& labels) {
  std::map<std::string, std::string> map;
  for (const std::string& label : labels) {
    size_t eq = label.find('=');
    if (eq == std::string::npos) continue;
    map[label.substr(0, eq)] = label.substr(eq + 1);
  }
  return map;
}

CLI::Option* AddImageOverrideOption(CLI::App& app, std::vector<std::string>* out,
                                    const std::string& description) {
  return app.add_option("--image-override", *out, description)->check(ImageOverrideValidator());
}

std::map<std::string, std::string> ImageOverrideMap(const std::vector<std::string>& overrides) {
  return LabelMap(overrides);
}

std::optional<v1::SandboxPhase> ParsePhase(absl::string_view text) {
  std::string name = absl::AsciiStrToUpper(text);
  if (!absl::StartsWith(name, kPhasePrefix)) name = absl::StrCat(kPhasePrefix, name);
  v1::SandboxPhase phase;
  if (!v1::SandboxPhase_Parse(name, &phase) || phase == v1::SANDBOX_PHASE_UNSPECIFIED) {
    return std::nullopt;
  }
  return phase;
}

std::string AllPhaseWords() {
  std::vector<std::string> words;
  for (int i = v1::SandboxPhase_MIN + 1; i <= v1::SandboxPhase_MAX; ++i) {
    if (!v1::SandboxPhase_IsValid(i)) continue;
    words.push_back(absl::AsciiStrToLower(
        v1::SandboxPhase_Name(static_cast<v1::SandboxPhase>(i)).substr(kPhasePrefix.size())));
  }
  return absl::StrJoin(words, ", ");
}

}  // namespace labrack::cli
