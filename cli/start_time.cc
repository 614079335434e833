// absl::RFC3339_full accepts an optional fraction and requires an offset or Z, which is
// what makes a time unambiguous whatever the controller's or the caller's time zone.
#include "cli/start_time.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace labrack::cli {

absl::StatusOr<std::optional<absl::Time>> ParseStartTime(absl::string_view text, absl::Time now) {
  absl::string_view value = absl::StripAsciiWhitespace(text);
  if (absl::EqualsIgnoreCase(value, "now")) return std::optional<absl::Time>();
  if (absl::ConsumePrefix(&value, "+")) {
    absl::Duration d;
    if (absl::ParseDuration(value, &d) && d >= absl::ZeroDuration()) {
      return std::optional<absl::Time>(now + d);
    }
  } else {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(absl::RFC3339_full, std::string(value), &t, &err)) {
      return std::optional<absl::Time>(t);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("--start: '", text, "' is not ", kStartTimeForms));
}

CLI::Option* AddStartTimeOption(CLI::App& app, std::string* out, const std::string& description) {
  CLI::Validator check(
      [](std::string& text) -> std::string {
        if (ParseStartTime(text, absl::Now()).ok()) return "";
        // CLI11 puts "--start: " in front.
        return absl::StrCat("'", text, "' is not ", kStartTimeForms);
      },
      "TIME");
  return app.add_option("--start", *out, description)->check(check);
}

}  // namespace labrack::cli
