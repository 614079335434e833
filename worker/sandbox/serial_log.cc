#include "worker/sandbox/serial_log.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace labrack::worker {

std::string ReadSerialLogFrom(const std::string& path, size_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size <= static_cast<std::streamoff>(offset)) return "";
  in.seekg(offset);
  std::string out(size - offset, '\0');
  in.read(out.data(), out.size());
  out.resize(in.gcount());
  return out;
}

bool SerialLogHasMarker(const std::string& path, absl::string_view marker, absl::string_view node) {
  std::string expected = absl::StrCat(marker, " node=", node);
  std::string log = ReadSerialLogFrom(path, 0);
  for (absl::string_view line : absl::StrSplit(log, absl::ByAnyChar("\r\n"))) {
    if (line.find(expected) == absl::string_view::npos) continue;
    // The node name must end there, so that "web" is not taken for "web-2".
    size_t end = line.find(expected) + expected.size();
    if (end == line.size() || line[end] == ' ') return true;
  }
  return false;
}

}  // namespace labrack::worker
