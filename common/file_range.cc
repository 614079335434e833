#include "common/file_range.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"

namespace labrack {

absl::StatusOr<std::string> ReadFileRange(const std::string& path, uint64_t offset, size_t max) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", strerror(errno)));
  absl::Cleanup closer = [fd] { close(fd); };
  std::string data(max, '\0');
  size_t got = 0;
  while (got < max) {
    ssize_t n = pread(fd, data.data() + got, max - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("read ", path, ": ", strerror(errno)));
    if (n == 0) break;
    got += n;
  }
  data.resize(got);
  return data;
}

}  // namespace labrack
