#include "common/file_range.h"

#include <fcntl.h>
#include <sys/stat.h>
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

absl::Status CopyFileContents(const std::string& from, const std::string& to) {
  auto fail = [](const std::string& what) {
    int e = errno;
    std::string text = absl::StrCat(what, ": ", strerror(e));
    return e == ENOENT ? absl::NotFoundError(text) : absl::InternalError(text);
  };
  int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return fail(absl::StrCat("open ", from));
  absl::Cleanup close_in = [in] { close(in); };
  int out = open(to.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (out < 0) return fail(absl::StrCat("open ", to));
  absl::Cleanup close_out = [out] { close(out); };
  struct stat st;
  if (fstat(in, &st) != 0) return fail(absl::StrCat("stat ", from));
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = copy_file_range(in, nullptr, out, nullptr, static_cast<size_t>(left), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(absl::StrCat("copy ", from, " to ", to));
    if (n == 0) return absl::DataLossError(absl::StrCat(from, " ended while it was copied"));
    left -= n;
  }
  return absl::OkStatus();
}

}  // namespace labrack
