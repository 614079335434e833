// The server side of a streamed image import (LabWorker.EnsureImage and
// LabController.ImportImage): the manifest first, then chunks of each artifact, each
// verified by ImageCache against its sha256. `Response` is any message with `manifest`
// and `already_present` fields. One reactor per call; gRPC serializes its callbacks.
#ifndef LABRACK_WORKER_IMAGES_IMPORT_REACTOR_H_
#define LABRACK_WORKER_IMAGES_IMPORT_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "common/grpc_util.h"
#include "labrack/v1/worker.pb.h"
#include "worker/images/image_cache.h"

namespace labrack::worker {

template <typename Response>
class ImportReactor : public grpc::ServerReadReactor<v1::EnsureImageChunk> {
 public:
  ImportReactor(ImageCache* images, Response* resp) : images_(images), resp_(resp) {
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Complete();
    absl::Status s = Consume();
    if (!s.ok()) return Finish(ToGrpc(s));
    StartRead(&chunk_);
  }
  void OnDone() override { delete this; }

 private:
  absl::Status Consume() {
    if (chunk_.has_manifest()) {
      if (import_) return absl::InvalidArgumentError("manifest: sent twice");
      absl::StatusOr<std::unique_ptr<ImageImport>> import = images_->BeginImport(chunk_.manifest());
      if (!import.ok()) return import.status();
      import_ = *std::move(import);
      *resp_->mutable_manifest() = chunk_.manifest();
      return absl::OkStatus();
    }
    if (!import_) return absl::InvalidArgumentError("manifest: must come before any chunk");
    return import_->Write(chunk_.chunk().file(), chunk_.chunk().data());
  }

  void Complete() {
    if (!import_) return Finish(ToGrpc(absl::InvalidArgumentError("manifest: missing")));
    absl::StatusOr<bool> present = import_->Finish();
    if (present.ok()) resp_->set_already_present(*present);
    Finish(ToGrpc(present.status()));
  }

  ImageCache* images_;
  Response* resp_;
  v1::EnsureImageChunk chunk_;
  std::unique_ptr<ImageImport> import_;
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_IMAGES_IMPORT_REACTOR_H_
