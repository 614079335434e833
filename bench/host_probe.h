// What the host does while the benchmark runs, seen from outside labrack: when libvirt
// domains started (over a connection of its own, so that it never queues behind the
// worker's calls) and how much CPU processes used (from /proc). Thread-safe.
#ifndef LABRACK_BENCH_HOST_PROBE_H_
#define LABRACK_BENCH_HOST_PROBE_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "worker/hypervisor/libvirt_handles.h"

namespace labrack::bench {

// When each domain of the host started (libvirt's lifecycle event STARTED), from events on a
// connection of its own: libvirtd pushes them as they happen, so the times wait neither for
// the worker's calls nor for libvirtd's busy worker threads. Thread-safe.
class DomainStarts {
 public:
  // Unavailable when libvirtd cannot be reached or refuses the subscription.
  static absl::StatusOr<std::unique_ptr<DomainStarts>> Connect(const std::string& uri);
  ~DomainStarts();
  // When the domain of that name last started since Connect; nullopt if it did not.
  std::optional<absl::Time> Started(const std::string& name);

 private:
  explicit DomainStarts(worker::ConnectHandle conn) : conn_(std::move(conn)) {}
  static int OnLifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void* opaque);

  worker::ConnectHandle conn_;
  int callback_ = -1;
  absl::Mutex mu_;
  std::map<std::string, absl::Time> started_ ABSL_GUARDED_BY(mu_);
};

// CPU seconds (user + system) a process used so far; 0 when it is gone. "self" for this one.
double ProcessCpuSeconds(const std::string& pid);
// The id of the first process whose name (/proc/<pid>/comm) is `comm`; empty when none.
std::string FindProcess(const std::string& comm);
// CPU seconds of the qemu process of each of these domains that runs now.
std::map<std::string, double> QemuCpuSeconds(const std::vector<std::string>& domains);

// Busy and total CPU time of the whole machine, in seconds, from /proc/stat.
struct MachineCpu {
  double busy = 0;
  double total = 0;
};
MachineCpu ReadMachineCpu();

}  // namespace labrack::bench

#endif  // LABRACK_BENCH_HOST_PROBE_H_
