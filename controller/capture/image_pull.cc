#include "controller/capture/image_pull.h"

#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace labrack::controller {

absl::StatusOr<PulledImage> PullImage(WorkerClient& worker, const v1::ImageManifest& manifest,
                                   worker::ImageCache& images) {
  ASSIGN_OR_RETURN(std::unique_ptr<worker::ImageImport> import, images.BeginImport(manifest));
  uint64_t pulled = 0;
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    if (std::filesystem::exists(images.BlobPath(a.sha256()))) continue;  // no bytes needed
    if (a.size_bytes() == 0) RETURN_IF_ERROR(import->Write(a.file(), ""));
    // Up to the manifest's size: a blob that grew on the worker fails its sha256 here.
    for (uint64_t offset = 0; offset < a.size_bytes();) {
      ASSIGN_OR_RETURN(std::string data,
                       worker.ReadImageBlob(a.sha256(), offset, worker::kMaxBlobReadBytes));
      if (data.empty()) {
        return absl::DataLossError(absl::StrCat("image ", manifest.name(), ": artifact ", a.file(),
                                                " ended after ", offset, " of ", a.size_bytes(),
                                                " bytes on the worker"));
      }
      RETURN_IF_ERROR(import->Write(a.file(), data));
      offset += data.size();
      pulled += data.size();
    }
  }
  ASSIGN_OR_RETURN(bool already_present, import->Finish());
  return PulledImage{pulled, already_present};
}

}  // namespace labrack::controller
