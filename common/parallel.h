// Runs independent steps on their own threads and joins them all, returning the first
// failure. For the handful of libvirt calls per node that a sandbox makes at once.
#ifndef LABRACK_COMMON_PARALLEL_H_
#define LABRACK_COMMON_PARALLEL_H_

#include <functional>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace labrack {

// Calls fn(0) .. fn(n-1) concurrently; waits for all. OK, or the lowest-indexed failure.
inline absl::Status RunInParallel(int n, const std::function<absl::Status(int)>& fn) {
  std::vector<absl::Status> results(n);
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { results[i] = fn(i); });
  for (std::thread& t : threads) t.join();
  for (absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace labrack

#endif  // LABRACK_COMMON_PARALLEL_H_
