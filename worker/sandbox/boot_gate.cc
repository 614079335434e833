#include "worker/sandbox/boot_gate.h"

#include <algorithm>

namespace labrack::worker {

bool BootGate::Acquire(int n, const std::function<bool()>& cancelled) {
  n = std::min(std::max(n, 1), slots_);
  uint64_t ticket;
  {
    absl::MutexLock lock(&mu_);
    ticket = next_ticket_++;
  }
  // Whether this ticket got its slots; with mu_ held.
  auto take = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (abandoned_.erase(serving_) > 0) ++serving_;  // turns of callers that gave up
    if (serving_ != ticket || used_ + n > slots_) return false;
    used_ += n;
    ++serving_;
    changed_.SignalAll();  // the next in line may fit too
    return true;
  };
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (take()) return true;
      changed_.WaitWithTimeout(&mu_, absl::Milliseconds(100));
      if (take()) return true;
    }
    // Asked without mu_ held: the callback may take the caller's own locks.
    if (cancelled && cancelled()) {
      absl::MutexLock lock(&mu_);
      if (take()) {
        used_ -= n;  // got them just now, but the caller is gone: give them back
      } else if (serving_ == ticket) {
        ++serving_;  // its turn, without room: pass it on
      } else {
        abandoned_.insert(ticket);
      }
      changed_.SignalAll();
      return false;
    }
  }
}

void BootGate::Release(int n) {
  n = std::min(std::max(n, 1), slots_);
  absl::MutexLock lock(&mu_);
  used_ = std::max(0, used_ - n);
  changed_.SignalAll();
}

int BootGate::in_use() {
  absl::MutexLock lock(&mu_);
  return used_;
}

int BootGate::waiting() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(next_ticket_ - serving_);
}

int DefaultBootSlots(int cpus, bool kvm) { return std::max(1, cpus) * (kvm ? 8 : 3); }

}  // namespace labrack::worker
