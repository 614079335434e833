// The client side of LabWorker.EnsureImage: streams an image folder's artifacts to a worker
// in chunks. Used by the controller and by tests. Thread-safe (no shared state).
#ifndef LABRACK_WORKER_CLIENT_IMAGE_UPLOAD_H_
#define LABRACK_WORKER_CLIENT_IMAGE_UPLOAD_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labrack/v1/worker.grpc.pb.h"

namespace labrack::worker {

inline constexpr size_t kImageChunkBytes = 1 << 20;

// Sends the manifest, then each artifact read from `folder`. Returns the worker's answer;
// its status is the worker's (e.g. DataLoss when a hash does not match).
absl::StatusOr<v1::EnsureImageResponse> UploadImage(v1::LabWorker::StubInterface& stub,
                                                    const v1::ImageManifest& manifest,
                                                    const std::string& folder,
                                                    absl::Duration deadline = absl::Minutes(10));

// grpc::Status -> absl::Status with the same code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_CLIENT_IMAGE_UPLOAD_H_
