// The backing file a qcow2 file's header names, read without qemu: the image cache checks
// that a layered image's disks name each other exactly as its manifest says before it
// keeps them, since qemu-img (in a storage pool's volume creation) follows those names.
// Pure functions over files; thread-safe.
#ifndef LABRACK_WORKER_IMAGES_QCOW2_HEADER_H_
#define LABRACK_WORKER_IMAGES_QCOW2_HEADER_H_

#include <string>

#include "absl/status/statusor.h"

namespace labrack::worker {

struct Qcow2Backing {
  // The backing file's name as written (relative names resolve beside the file); empty:
  // the file has no backing file.
  std::string file;
  // From the header's backing format extension; empty when not stated.
  std::string format;
};

// The backing file named in the header of the qcow2 file at `path`. NotFound when the file
// cannot be opened; DataLoss when it is not a qcow2 file or its header is malformed.
absl::StatusOr<Qcow2Backing> ReadQcow2Backing(const std::string& path);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_IMAGES_QCOW2_HEADER_H_
