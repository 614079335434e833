// Decides whether guests run with KVM or with software emulation. /dev/kvm existing is not
// enough: on some nested hosts it exists and guests hang, so the probe boots real firmware
// under KVM and waits for it to finish. Stateless; thread-safe.
#ifndef LABRACK_WORKER_DOMAIN_TYPE_PROBE_H_
#define LABRACK_WORKER_DOMAIN_TYPE_PROBE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "worker/hypervisor/types.h"

namespace labrack::worker {

struct ProbeResult {
  DomainType type = DomainType::kQemu;
  // Why this type was chosen, for the log.
  std::string reason;
};

// Runs `qemu_binary` with KVM, no disk and a debug console, and reports KVM usable when
// its firmware (SeaBIOS) reaches the end of its boot within `timeout`.
ProbeResult ProbeKvm(const std::string& qemu_binary = "qemu-system-x86_64",
                     absl::Duration timeout = absl::Seconds(10));

// "auto" | "kvm" | "qemu" -> the domain type; auto probes. InvalidArgument otherwise.
absl::StatusOr<ProbeResult> ResolveDomainType(const std::string& flag);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_DOMAIN_TYPE_PROBE_H_
