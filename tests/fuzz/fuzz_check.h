// Property checks for the libFuzzer targets beside this file. A broken property aborts, so
// libFuzzer saves the input as a crash like any sanitizer report. Header only; no state.
#ifndef LABRACK_TESTS_FUZZ_FUZZ_CHECK_H_
#define LABRACK_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace labrack::fuzz {

// The name the fuzzers give every input; parser errors must start with it.
inline constexpr absl::string_view kSourceName = "fuzz.yaml";

// Aborts with `rule` and `detail` on stderr unless `holds`.
inline void Require(bool holds, absl::string_view rule, absl::string_view detail = "") {
  if (holds) return;
  std::fprintf(stderr, "fuzz property broken: %.*s\n%.*s\n", static_cast<int>(rule.size()),
               rule.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// A parser's refusal of bad input must be what its header promises: InvalidArgument whose
// message starts with the source name, so that an author can find the file.
inline void RequireRefusal(const absl::Status& status) {
  Require(status.code() == absl::StatusCode::kInvalidArgument,
          "a refusal must be InvalidArgument", status.ToString());
  Require(absl::StartsWith(status.message(), kSourceName),
          "a refusal must start with the source name", status.ToString());
}

}  // namespace labrack::fuzz

#endif  // LABRACK_TESTS_FUZZ_FUZZ_CHECK_H_
