// What every part of the controller benchmark shares: ending a run cleanly on SIGINT or
// SIGTERM, owners that remove temp folders and libvirt objects also when a run fails,
// statistics, the benchmark's inputs (image and topology), and a hypervisor wrapper that
// notes when a build touched the hypervisor. Thread-safe unless a class says otherwise.
#ifndef LABRACK_BENCH_BENCH_SUPPORT_H_
#define LABRACK_BENCH_BENCH_SUPPORT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/controller_bench.h"
#include "labrack/v1/types.pb.h"
#include "worker/hypervisor/forwarding_hypervisor.h"
#include "worker/hypervisor/libvirt_hypervisor.h"

namespace labrack::bench {

// ---- interruption

// Blocks SIGINT, SIGTERM and SIGHUP in this thread and every thread started after it, and
// waits for them on a thread of its own: the first sets Interrupted() and cancels every
// call a CancelOnInterrupt watches, so that the run unwinds and removes what it made; the
// second exits at once. Call first thing in main().
void HandleSignals();
bool Interrupted();
// Cancelled once interrupted, else OK: for loops that wait.
absl::Status CheckInterrupted();

// Cancels one client call when the run is interrupted, for as long as it lives.
class CancelOnInterrupt {
 public:
  explicit CancelOnInterrupt(grpc::ClientContext* ctx);
  ~CancelOnInterrupt();
  CancelOnInterrupt(const CancelOnInterrupt&) = delete;
  CancelOnInterrupt& operator=(const CancelOnInterrupt&) = delete;

 private:
  grpc::ClientContext* const ctx_;
};

// ---- statistics

struct Summary {
  int n = 0;
  double mean = 0, p50 = 0, p95 = 0, p99 = 0, min = 0, max = 0;
};
// Percentiles by nearest rank. All zero for no values.
Summary Summarize(std::vector<double> values);
// "mean 1.23  p50 1.20  p95 1.50  p99 1.58  min 1.10  max 1.60 ms" with `digits` decimals.
std::string FormatSummary(const Summary& s, const std::string& unit, int digits = 2);
double Ms(absl::Duration d);
double Seconds(absl::Duration d);

// ---- resources

// A fresh folder /tmp/labrack-ctlbench-<pid>-XXXXXX that qemu can read (0755), removed with
// everything in it when the owner goes.
class TempDir {
 public:
  // Internal when the folder cannot be made.
  static absl::StatusOr<std::unique_ptr<TempDir>> Make();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  const std::string path_;
};

// The host id of this process's libvirt objects: bench-<pid>.
std::string BenchHostId();

// Owns the removal of every libvirt object of one host id: domains and networks tagged
// with it, the volumes of its pool labrack-<host id> and the pool. Sweeps when made (what
// an earlier run of the same id left) and when destroyed. Not thread-safe.
class HostSweep {
 public:
  // Unavailable when libvirtd cannot be reached.
  static absl::StatusOr<std::unique_ptr<HostSweep>> Start(const std::string& uri,
                                                         const std::string& host_id);
  ~HostSweep();
  // Names of the host's domains, networks and pool volumes present now.
  std::vector<std::string> Leftovers();
  // Removes them and the pool; logs what it found besides the pool.
  void Sweep();

 private:
  HostSweep(std::unique_ptr<worker::LibvirtHypervisor> hv, std::string host_id)
      : hv_(std::move(hv)), host_id_(std::move(host_id)) {}
  std::string pool() const { return "labrack-" + host_id_; }

  std::unique_ptr<worker::LibvirtHypervisor> hv_;
  const std::string host_id_;
};

// ---- inputs

struct Inputs {
  v1::ImageManifest manifest;
  std::string image_dir;
  v1::Topology topology;
};
// InvalidArgument when the topology's nodes use another image than the one given, or
// the files' loaders' errors (NotFound for a missing file).
absl::StatusOr<Inputs> LoadInputs(const CommonOptions& options);
// Puts the image into a worker's cache (<worker_state_dir>/images) before it starts, so
// that no measured create pays for sending it.
absl::Status PreloadImage(const std::string& worker_state_dir, const Inputs& inputs);

// ---- timing the hypervisor

// Forwards to a hypervisor it owns and notes when a build first created something
// (network, volume or domain) and when it last started a domain since Reset().
class TimingHypervisor : public worker::ForwardingHypervisor {
 public:
  struct Marks {
    absl::Time first_create = absl::InfinitePast();  // InfinitePast: none yet
    absl::Time last_start = absl::InfinitePast();
  };
  explicit TimingHypervisor(std::unique_ptr<worker::Hypervisor> target)
      : ForwardingHypervisor(target.get()), owned_(std::move(target)) {}

  void Reset();
  Marks marks();

  absl::Status CreateNetwork(const worker::NetworkSpec& spec) override;
  absl::StatusOr<std::string> CreateVolume(const worker::VolumeSpec& spec) override;
  absl::Status DefineDomain(const worker::DomainSpec& spec) override;
  absl::Status StartDomain(const std::string& name) override;

 private:
  void MarkCreate();

  const std::unique_ptr<worker::Hypervisor> owned_;
  absl::Mutex mu_;
  Marks marks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labrack::bench

#endif  // LABRACK_BENCH_BENCH_SUPPORT_H_
