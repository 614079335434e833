// libvirt storage XML: the dir pool that holds a worker's overlays and blank disks, and the
// volumes in it (sparse qcow2, optionally an overlay on a read-only base with its format
// stated). Pure functions; thread-safe.
#ifndef LABRACK_WORKER_XML_STORAGE_XML_H_
#define LABRACK_WORKER_XML_STORAGE_XML_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "worker/hypervisor/types.h"

namespace labrack::worker {

// <pool type='dir'> named `name` over the folder `dir`.
std::string BuildPoolXml(absl::string_view name, absl::string_view dir);

// The folder of a pool document (<target><path>). InvalidArgument when the XML is not
// well-formed, its root is not <pool>, or it has no target path.
absl::StatusOr<std::string> ParsePoolTargetPath(absl::string_view xml);

// <volume type='file'>: qcow2 v3 (compat 1.1) with no preallocation. A blank volume has
// capacity_bytes; an overlay names its backing file and format, and takes the backing file's size
// when capacity_bytes is 0. No <permissions>: libvirt creates the file 0600 and its DAC driver
// relabels it for qemu when a domain that uses it starts.
std::string BuildVolumeXml(const VolumeSpec& spec);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_XML_STORAGE_XML_H_
