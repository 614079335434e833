// Golden files for generated XML (test helper): compares a builder's output with
// worker/xml/testdata/<name>, or rewrites that file when LABRACK_UPDATE_GOLDEN=1 so that the
// change shows in the reviewer's diff. Not thread-safe when rewriting; tests only.
#ifndef LABRACK_WORKER_XML_GOLDEN_H_
#define LABRACK_WORKER_XML_GOLDEN_H_

#include <string>

#include "absl/strings/string_view.h"

namespace labrack::worker::testing {

// Full path of worker/xml/testdata/<name> in the source tree (fixed at build time, so the
// test finds it from any working directory).
std::string GoldenPath(absl::string_view name);

// The file's text; an empty string and a test failure when it cannot be read.
std::string ReadGolden(absl::string_view name);

// EXPECT that `actual` equals the golden file, or rewrite it (and say so) in update mode.
void ExpectMatchesGolden(absl::string_view actual, absl::string_view name);

}  // namespace labrack::worker::testing

#endif  // LABRACK_WORKER_XML_GOLDEN_H_
