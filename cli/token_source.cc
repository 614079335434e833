#include "cli/token_source.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace labrack::cli {

std::string TokenFilePath() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] != '\0') return absl::StrCat(xdg, "/labrack/token");
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return absl::StrCat(home, "/.config/labrack/token");
  return "";
}

std::string ResolveToken(const std::string& given) {
  if (!given.empty()) return std::string(absl::StripAsciiWhitespace(given));
  const std::string path = TokenFilePath();
  if (path.empty()) return "";
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return "";
  return std::string(absl::StripAsciiWhitespace(line));
}

}  // namespace labrack::cli
