// Decides whether guests run with KVM or with software emulation. /dev/kvm existing is not
// enough: on some nested hosts it exists and guests hang after the firmware, or qemu aborts
// when it sets the host CPU's registers. So the probe boots a real image the way a guest
// runs (machine, CPU model, kernel, initrd, disk, command line) under KVM and waits for its
// readiness marker. Stateless; thread-safe.
#ifndef LABRACK_WORKER_DOMAIN_TYPE_PROBE_H_
#define LABRACK_WORKER_DOMAIN_TYPE_PROBE_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "worker/sandbox/domain_type_choice.h"

namespace labrack::worker {

// The qemu arguments that boot `guest` under KVM as libvirt starts a KVM domain of it
// (machine pc, host-passthrough CPU, ACPI and APIC, its disk as a throwaway snapshot),
// its serial console written to `serial_log`.
std::vector<std::string> KvmProbeArgs(const ProbeGuest& guest, const std::string& serial_log);

// Boots `guest` with `qemu_binary` under KVM and reports KVM usable when the guest prints
// its marker within `timeout`. Software emulation otherwise, with what was seen: no
// usable /dev/kvm, qemu exiting (with the start of what it printed), or no marker.
ProbeResult ProbeKvm(const ProbeGuest& guest,
                     const std::string& qemu_binary = "qemu-system-x86_64",
                     absl::Duration timeout = absl::Seconds(20));

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_DOMAIN_TYPE_PROBE_H_
