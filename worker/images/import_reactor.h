// The server side of a streamed image import (LabWorker.EnsureImage and
// LabController.ImportImage): the manifest first (as a proto or as manifest.yaml's text),
// then chunks of the artifacts the cache lacks, each verified by ImageCache against its
// sha256. `Response` is any message with `manifest`
// and `already_present` fields. One reactor per call; gRPC serializes its callbacks.
// `on_finish`, when given, sees the call's status and answer just before it finishes
// (the controller records imports in its audit log).
#ifndef LABRACK_WORKER_IMAGES_IMPORT_REACTOR_H_
#define LABRACK_WORKER_IMAGES_IMPORT_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/topology/manifest_yaml.h"
#include "common/topology/yaml_reader.h"
#include "labrack/v1/worker.pb.h"
#include "worker/images/image_cache.h"

namespace labrack::worker {

template <typename Response>
class ImportReactor : public grpc::ServerReadReactor<v1::EnsureImageChunk> {
 public:
  using FinishHook = std::function<void(const absl::Status&, const Response&)>;
  ImportReactor(ImageCache* images, Response* resp, FinishHook on_finish = nullptr)
      : images_(images), resp_(resp), on_finish_(std::move(on_finish)) {
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Complete();
    absl::Status s = Consume();
    if (!s.ok()) return End(s);
    StartRead(&chunk_);
  }
  void OnDone() override { delete this; }

 private:
  absl::Status Consume() {
    if (chunk_.has_manifest()) return Begin(chunk_.manifest());
    if (chunk_.has_manifest_yaml()) {
      if (chunk_.manifest_yaml().size() > kMaxYamlFileBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("manifest_yaml: at most ", kMaxYamlFileBytes, " bytes"));
      }
      absl::StatusOr<v1::ImageManifest> manifest =
          ParseImageManifestYaml(chunk_.manifest_yaml(), "manifest.yaml");
      if (!manifest.ok()) return manifest.status();
      return Begin(*manifest);
    }
    if (!import_) return absl::InvalidArgumentError("manifest: must come before any chunk");
    return import_->Write(chunk_.chunk().file(), chunk_.chunk().data());
  }

  absl::Status Begin(const v1::ImageManifest& manifest) {
    if (import_) return absl::InvalidArgumentError("manifest: sent twice");
    absl::StatusOr<std::unique_ptr<ImageImport>> import = images_->BeginImport(manifest);
    if (!import.ok()) return import.status();
    import_ = *std::move(import);
    *resp_->mutable_manifest() = manifest;
    return absl::OkStatus();
  }

  void Complete() {
    if (!import_) return End(absl::InvalidArgumentError("manifest: missing"));
    absl::StatusOr<bool> present = import_->Finish();
    if (present.ok()) resp_->set_already_present(*present);
    End(present.status());
  }

  void End(const absl::Status& status) {
    if (on_finish_) on_finish_(status, *resp_);
    Finish(ToGrpc(status));
  }

  ImageCache* images_;
  Response* resp_;
  const FinishHook on_finish_;
  v1::EnsureImageChunk chunk_;
  std::unique_ptr<ImageImport> import_;
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_IMAGES_IMPORT_REACTOR_H_
