// What this host runs guests with (KVM or software emulation) and why. With --domain-type
// auto, KVM is proven once by booting a real image's kernel the way guests will run (the
// probe is injected), and left for good when a KVM guest still fails to start with an
// error that points at KVM. Thread-safe: one probe at a time, others wait for its answer.
#ifndef LABRACK_WORKER_SANDBOX_DOMAIN_TYPE_CHOICE_H_
#define LABRACK_WORKER_SANDBOX_DOMAIN_TYPE_CHOICE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "worker/hypervisor/types.h"
#include "worker/images/image_cache.h"

namespace labrack::worker {

// A direct-kernel image to boot for the KVM probe: what a guest of it runs, and the line
// its guest prints once it is up.
struct ProbeGuest {
  std::string image;  // its name, for the log
  std::string kernel;
  std::string initrd;  // may be empty
  std::string disk;    // may be empty
  std::string disk_format;
  std::string cmdline;
  std::string marker;
  uint32_t memory_mib = 128;
};

struct ProbeResult {
  DomainType type = DomainType::kQemu;
  // Why this type was chosen, for the log and the host's inventory.
  std::string reason;
};

// The probe guest for a cached image: its kernel, initrd, disk, command line and marker.
// Nothing for an image that does not boot a kernel directly.
std::optional<ProbeGuest> ProbeGuestFor(const CachedImage& image);

using KvmProber = std::function<ProbeResult(const ProbeGuest&)>;

// Whether a failure to start a guest points at KVM (qemu's KVM accelerator, /dev/kvm, a
// KVM assertion), so that software emulation would start it.
bool PointsAtKvm(const absl::Status& status);

class DomainTypeChoice {
 public:
  // "kvm" and "qemu" are taken as they are, for good. "auto" starts as software
  // emulation, not yet probed. InvalidArgument naming --domain-type otherwise.
  static absl::StatusOr<std::unique_ptr<DomainTypeChoice>> FromFlag(const std::string& flag,
                                                                     KvmProber prober);
  // A fixed type with a reason (tests, injected hypervisors).
  static std::unique_ptr<DomainTypeChoice> Fixed(DomainType type, std::string reason);

  DomainType type() const;
  std::string reason() const;
  // In auto mode before the first probe: runs the prober on `guest` and keeps its answer.
  // Without a guest (no direct-kernel image at hand) nothing changes.
  void EnsureProbed(const std::optional<ProbeGuest>& guest);
  // In auto mode on KVM: moves to software emulation for good and returns true (once).
  // Otherwise (a type given by flag, or emulation already) false.
  bool LeaveKvm(absl::string_view why);

 private:
  DomainTypeChoice(bool automatic, DomainType type, std::string reason, KvmProber prober);

  const bool automatic_;
  const KvmProber prober_;
  mutable absl::Mutex mu_;
  absl::Mutex probe_mu_;  // held while a probe runs
  bool probed_ ABSL_GUARDED_BY(mu_) = false;
  DomainType type_ ABSL_GUARDED_BY(mu_);
  std::string reason_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SANDBOX_DOMAIN_TYPE_CHOICE_H_
