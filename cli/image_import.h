// The client side of LabController.ImportImage: reads an image's manifest.yaml, checks the
// artifact files beside it, then streams the manifest and each artifact in chunks.
// Thread-safe (no shared state).
#ifndef LABRACK_CLI_IMAGE_IMPORT_H_
#define LABRACK_CLI_IMAGE_IMPORT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/controller_client.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::cli {

// Called after each chunk sent: bytes sent so far and in all.
using ImportProgressFn = std::function<void(uint64_t sent, uint64_t total)>;

// Imports the image whose manifest is at `manifest_path`, with its artifacts in the same
// folder, all within `timeout`. Returns the controller's Image. InvalidArgument
// "file:line: field: rule" for a bad manifest, or when a file's size differs from the
// manifest's size_bytes; NotFound for a missing manifest or artifact; otherwise the
// controller's status (DataLoss when a sha256 does not match).
absl::StatusOr<v1::Image> ImportImageFromManifest(ControllerClient& client,
                                                  const std::string& manifest_path,
                                                  absl::Duration timeout,
                                                  const ImportProgressFn& progress);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_IMAGE_IMPORT_H_
