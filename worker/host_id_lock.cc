#include "worker/host_id_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace labrack::worker {
namespace {

std::string ReadHolder(int fd) {
  char buf[512] = {};
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  return n > 0 ? std::string(absl::StripAsciiWhitespace(std::string(buf, n))) : "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<HostIdLock>> HostIdLock::Acquire(const std::string& host_id,
                                                                 const std::string& state_dir,
                                                                 const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = absl::StrCat(dir, "/host-", host_id, ".lock");
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("open ", path, ": ", strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::string holder = ReadHolder(fd);
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "host id ", host_id, " is held by a live worker on this machine (",
        holder.empty() ? "unknown process" : holder,
        "); give this one another --host-id, or stop that one first"));
  }
  std::string me = absl::StrCat("pid ", getpid(), ", state folder ", state_dir, "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, me.data(), me.size(), 0) < 0) {
    // The lock holds without the note; only the message to a second worker is poorer.
  }
  return std::unique_ptr<HostIdLock>(new HostIdLock(fd));
}

HostIdLock::~HostIdLock() { close(fd_); }

}  // namespace labrack::worker
