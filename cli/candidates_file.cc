// A small CSV reader for the first cell of each line: quoted cells ("a, b", "say ""hi""")
// are unquoted; a line break inside quotes is not supported (an id never holds one) and is
// reported as an unterminated quote. A UTF-8 byte order mark (spreadsheet exports) and
// CRLF line ends are accepted.
#include "cli/candidates_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/names.h"
#include "common/status_macros.h"

namespace labrack::cli {
namespace {

constexpr absl::string_view kBom = "\xEF\xBB\xBF";

// The first cell of a CSV line, unquoted and trimmed; InvalidArgument (without a prefix)
// for an unterminated quote.
absl::StatusOr<std::string> FirstCell(absl::string_view line) {
  line = absl::StripLeadingAsciiWhitespace(line);
  if (!absl::StartsWith(line, "\"")) {
    return std::string(absl::StripAsciiWhitespace(line.substr(0, line.find(','))));
  }
  std::string cell;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] != '"') {
      cell += line[i];
    } else if (i + 1 < line.size() && line[i + 1] == '"') {
      cell += '"';
      ++i;
    } else {
      return std::string(absl::StripAsciiWhitespace(cell));
    }
  }
  return absl::InvalidArgumentError("a quoted cell has no closing quote");
}

bool Skipped(absl::string_view line) {
  absl::string_view stripped = absl::StripLeadingAsciiWhitespace(line);
  return stripped.empty() || absl::StartsWith(stripped, "#");
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseCandidates(absl::string_view text,
                                                         absl::string_view name) {
  if (absl::StartsWith(text, kBom)) text.remove_prefix(kBom.size());
  std::vector<std::string> ids;
  std::map<std::string, int> line_of;
  bool first = true;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    if (Skipped(line)) continue;
    const std::string where = absl::StrCat(name, ": line ", number);
    absl::StatusOr<std::string> id = FirstCell(line);
    if (!id.ok())
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", id.status().message()));
    bool header = first && absl::EqualsIgnoreCase(*id, "candidate");
    first = false;
    if (header) continue;
    if (id->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": the first column (the candidate id) is empty"));
    }
    RETURN_IF_ERROR(ValidateCandidateId(absl::StrCat(where, ": candidate"), *id));
    auto [it, fresh] = line_of.emplace(*id, number);
    if (!fresh) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": candidate ", *id, " also on line ", it->second));
    }
    ids.push_back(*std::move(id));
  }
  if (ids.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": no candidates (one id a line in the first column; '#' starts a comment)"));
  }
  return ids;
}

absl::StatusOr<std::vector<std::string>> ReadCandidatesFile(const std::string& path,
                                                            std::istream& stdin_stream) {
  std::ostringstream text;
  if (path == "-") {
    text << stdin_stream.rdbuf();
    return ParseCandidates(text.str(), "<stdin>");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(absl::StrCat("candidates file ", path, ": ", std::strerror(errno)));
  }
  text << file.rdbuf();
  if (file.bad()) {
    return absl::NotFoundError(absl::StrCat("candidates file ", path, ": cannot be read"));
  }
  return ParseCandidates(text.str(), path);
}

}  // namespace labrack::cli
