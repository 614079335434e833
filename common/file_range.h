// Reading a bounded piece of a file, for calls that hand out large files (evidence, image
// blobs) in pieces.
#ifndef LABRACK_COMMON_FILE_RANGE_H_
#define LABRACK_COMMON_FILE_RANGE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace labrack {

// Up to `max` bytes of `path` from `offset`; fewer only at its end, empty past it.
// NotFound when the file does not exist; Internal when it cannot be read.
absl::StatusOr<std::string> ReadFileRange(const std::string& path, uint64_t offset, size_t max);

// Replaces the bytes of the existing file `to` by those of `from`, copied in the kernel;
// `to` keeps its owner and mode. NotFound when either is missing.
absl::Status CopyFileContents(const std::string& from, const std::string& to);

}  // namespace labrack

#endif  // LABRACK_COMMON_FILE_RANGE_H_
