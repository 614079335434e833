// The client side of LabWorker.EnsureImage: streams an image's artifacts to a worker in
// chunks, from files named by a function or from one folder. Used by the controller and by
// tests. Thread-safe (no shared state).
#ifndef LABRACK_WORKER_CLIENT_IMAGE_UPLOAD_H_
#define LABRACK_WORKER_CLIENT_IMAGE_UPLOAD_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labrack/v1/worker.grpc.pb.h"

namespace labrack::worker {

inline constexpr size_t kImageChunkBytes = 1 << 20;

// Where the bytes of one artifact are: a file path.
using ArtifactPathFn = std::function<std::string(const v1::ImageArtifact& artifact)>;

// Sends the manifest, then each artifact read from path_of(artifact), all within
// `deadline`. Returns the worker's answer; its status is the worker's (e.g. DataLoss when
// a hash does not match), NotFound when a file cannot be opened, DataLoss when one cannot
// be read to its end.
absl::StatusOr<v1::EnsureImageResponse> UploadImageArtifacts(v1::LabWorker::StubInterface& stub,
                                                             const v1::ImageManifest& manifest,
                                                             const ArtifactPathFn& path_of,
                                                             absl::Duration deadline);

// The same with every artifact's file in `folder` (as an image folder holds them).
absl::StatusOr<v1::EnsureImageResponse> UploadImage(v1::LabWorker::StubInterface& stub,
                                                    const v1::ImageManifest& manifest,
                                                    const std::string& folder,
                                                    absl::Duration deadline = absl::Minutes(10));


}  // namespace labrack::worker

#endif  // LABRACK_WORKER_CLIENT_IMAGE_UPLOAD_H_
