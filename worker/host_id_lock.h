// One live worker per host id on a machine: the worker holds an advisory lock on
// <dir>/host-<id>.lock for as long as it runs (the kernel drops it when the process ends,
// however it ends), and the file says which process and state folder hold it.
// Not thread-safe; one object per worker.
#ifndef LABRACK_WORKER_HOST_ID_LOCK_H_
#define LABRACK_WORKER_HOST_ID_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace labrack::worker {

// Where workers on this machine keep their host id locks.
inline constexpr char kHostIdLockDir[] = "/run/labrack";

class HostIdLock {
 public:
  // Takes the lock of `host_id` in `dir` (made when absent). FailedPrecondition naming the
  // process and state folder that hold it, and --host-id, when a live worker does;
  // Internal when the file cannot be made.
  static absl::StatusOr<std::unique_ptr<HostIdLock>> Acquire(const std::string& host_id,
                                                             const std::string& state_dir,
                                                             const std::string& dir = kHostIdLockDir);
  ~HostIdLock();
  HostIdLock(const HostIdLock&) = delete;
  HostIdLock& operator=(const HostIdLock&) = delete;

 private:
  explicit HostIdLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HOST_ID_LOCK_H_
