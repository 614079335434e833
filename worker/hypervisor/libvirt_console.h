// A domain's serial console as a ConsoleStream over a non-blocking libvirt stream driven by
// libvirt's event loop thread (see InitLibvirtOnce). Read() and Write() from one thread;
// Close() from any.
#ifndef LABRACK_WORKER_HYPERVISOR_LIBVIRT_CONSOLE_H_
#define LABRACK_WORKER_HYPERVISOR_LIBVIRT_CONSOLE_H_

#include <libvirt/libvirt.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "worker/hypervisor/hypervisor.h"

namespace labrack::worker {

// Opens the console of a running domain, forcing off any other client attached to it.
absl::StatusOr<std::unique_ptr<ConsoleStream>> OpenLibvirtConsole(virConnectPtr conn,
                                                                  virDomainPtr dom,
                                                                  const std::string& name);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HYPERVISOR_LIBVIRT_CONSOLE_H_
