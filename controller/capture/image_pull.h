// Brings an image that a worker made (a capture) into the controller's image store: the
// artifacts the store lacks are read from the worker's cache in pieces, each verified by
// the store against the manifest's sha256 as it arrives. An image layered on one the store
// holds needs only its layer's bytes.
#ifndef LABRACK_CONTROLLER_CAPTURE_IMAGE_PULL_H_
#define LABRACK_CONTROLLER_CAPTURE_IMAGE_PULL_H_

#include "absl/status/statusor.h"
#include "controller/workers/worker_client.h"
#include "labrack/v1/types.pb.h"
#include "worker/images/image_cache.h"

namespace labrack::controller {

struct PulledImage {
  // How many bytes came from the worker.
  uint64_t bytes = 0;
  // Nothing new was stored: the store held this manifest and every artifact already.
  bool already_present = false;
};

// DataLoss when a blob's bytes do not match its sha256 or size (nothing is kept then); the
// worker's error as is.
absl::StatusOr<PulledImage> PullImage(WorkerClient& worker, const v1::ImageManifest& manifest,
                                   worker::ImageCache& images);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CAPTURE_IMAGE_PULL_H_
