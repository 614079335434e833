// Bounds how many guests boot at once on a host. Guests that boot together share the CPUs,
// so past a point each takes longer than its readiness deadline and every one of them
// fails (under emulation one boot costs seconds of CPU). A sandbox asks for one slot per
// guest and waits, first come first served, until they are free; its readiness deadline
// starts once it has them. A request larger than the whole gate proceeds alone.
// Thread-safe.
#ifndef LABRACK_WORKER_SANDBOX_BOOT_GATE_H_
#define LABRACK_WORKER_SANDBOX_BOOT_GATE_H_

#include <cstdint>
#include <functional>
#include <set>

#include "absl/synchronization/mutex.h"

namespace labrack::worker {

class BootGate {
 public:
  explicit BootGate(int slots) : slots_(slots < 1 ? 1 : slots) {}

  // Blocks until `n` slots are free and this caller is the oldest waiting; returns false
  // without taking any when `cancelled` turns true first (it is checked every 100 ms).
  bool Acquire(int n, const std::function<bool()>& cancelled);
  void Release(int n);

  int slots() const { return slots_; }
  int in_use();
  int waiting();

 private:
  const int slots_;
  absl::Mutex mu_;
  absl::CondVar changed_;
  int used_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t serving_ ABSL_GUARDED_BY(mu_) = 0;  // the oldest ticket still waiting
  std::set<uint64_t> abandoned_ ABSL_GUARDED_BY(mu_);  // cancelled before their turn
};

// Guests that may boot at once on a host with `cpus` CPUs: emulated boots are CPU-bound
// (3 per CPU keeps each within seconds of its lone time); KVM boots are cheap.
int DefaultBootSlots(int cpus, bool kvm);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SANDBOX_BOOT_GATE_H_
