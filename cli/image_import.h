// The client side of LabController.ImportImage: reads an image's manifest.yaml, checks the
// artifact files beside it, then streams the manifest and, in chunks, each artifact the
// controller's store lacks.
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

struct ImportResult {
  // The controller's answer.
  v1::Image image;
  // Artifacts left out because the store held their sha256 already, and the bytes sent.
  int artifacts_held = 0;
  uint64_t bytes_sent = 0;
};

// Imports the image whose manifest is at `manifest_path`, with its artifacts in the same
// folder, all within `timeout`; artifacts whose sha256 the store holds (ListImages) are
// left out. InvalidArgument
// "file:line: field: rule" for a bad manifest, or when a file's size differs from the
// manifest's size_bytes; NotFound for a missing manifest or artifact; otherwise the
// controller's status (DataLoss when a sha256 does not match).
absl::StatusOr<ImportResult> ImportImageFromManifest(ControllerClient& client,
                                                    const std::string& manifest_path,
                                                    absl::Duration timeout,
                                                    const ImportProgressFn& progress);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_IMAGE_IMPORT_H_
