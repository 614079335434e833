// Text forms of labrack's enums as libvirt spells them, both ways. DiskFormatName and
// DomainTypeName are declared in worker/hypervisor/types.h and defined in type_names.cc.
// Pure functions; thread-safe.
#ifndef LABRACK_WORKER_XML_TYPE_NAMES_H_
#define LABRACK_WORKER_XML_TYPE_NAMES_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "worker/hypervisor/types.h"

namespace labrack::worker {

// "qcow2" or "raw"; InvalidArgument naming `field` for anything else (labrack never lets
// libvirt or qemu guess a format).
absl::StatusOr<DiskFormat> ParseDiskFormat(absl::string_view field, absl::string_view name);
// "kvm" or "qemu"; InvalidArgument naming `field` otherwise.
absl::StatusOr<DomainType> ParseDomainType(absl::string_view field, absl::string_view name);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_XML_TYPE_NAMES_H_
