// Reads what a guest printed on its serial console, as libvirt's <log> keeps it in a file.
// Stateless; thread-safe.
#ifndef LABRACK_WORKER_SANDBOX_SERIAL_LOG_H_
#define LABRACK_WORKER_SANDBOX_SERIAL_LOG_H_

#include <string>

#include "absl/strings/string_view.h"

namespace labrack::worker {

// Whether the log holds a line with `marker` naming `node` ("<marker> node=<node>").
// A missing file is simply false: the guest has printed nothing yet.
bool SerialLogHasMarker(const std::string& path, absl::string_view marker, absl::string_view node);

// Everything in the log from byte `offset` on (empty when the file is shorter or absent).
std::string ReadSerialLogFrom(const std::string& path, size_t offset);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SANDBOX_SERIAL_LOG_H_
