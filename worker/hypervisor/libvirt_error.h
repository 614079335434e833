// Converts libvirt's thread-local last error into absl::Status, right after the failing
// call, and keeps libvirt from printing errors itself. Thread-safe.
#ifndef LABRACK_WORKER_HYPERVISOR_LIBVIRT_ERROR_H_
#define LABRACK_WORKER_HYPERVISOR_LIBVIRT_ERROR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace labrack::worker {

// Installs a silent error handler (once per process) and sets up libvirt's default event
// loop on a background thread, which keepalives and console streams need.
void InitLibvirtOnce();

// The status for the error libvirt recorded on this thread for the call described by
// `what` (e.g. "define domain lr-0123abcd-server"). Codes follow what the caller should do:
// NotFound, AlreadyExists, FailedPrecondition, InvalidArgument, Unavailable, Internal.
absl::Status LastLibvirtError(absl::string_view what);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HYPERVISOR_LIBVIRT_ERROR_H_
