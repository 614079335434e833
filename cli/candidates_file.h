// The candidates file of `session create --candidates FILE`: one candidate a line, the id in
// the first CSV column (further columns, such as a display name, are ignored), blank lines
// and '#' comments skipped, and an optional header line whose first cell is "candidate".
// Pure functions; thread-safe.
#ifndef LABRACK_CLI_CANDIDATES_FILE_H_
#define LABRACK_CLI_CANDIDATES_FILE_H_

#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labrack::cli {

// The candidate ids in `text`, in file order. `name` prefixes every error, which also names
// the line: InvalidArgument for an empty id, an id that is not a valid candidate id
// (common/names.h), a duplicate ("line 7: candidate c03 also on line 3"), an unterminated
// quote, or a file without candidates.
absl::StatusOr<std::vector<std::string>> ParseCandidates(absl::string_view text,
                                                         absl::string_view name);

// ParseCandidates of the file at `path`, or of `stdin` when `path` is "-". NotFound when
// the file cannot be read.
absl::StatusOr<std::vector<std::string>> ReadCandidatesFile(const std::string& path,
                                                            std::istream& stdin_stream);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_CANDIDATES_FILE_H_
