#include "worker/client/image_upload.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace labrack::worker {

absl::Status FromGrpcStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<v1::EnsureImageResponse> UploadImage(v1::LabWorker::StubInterface& stub,
                                                    const v1::ImageManifest& manifest,
                                                    const std::string& folder,
                                                    absl::Duration deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  v1::EnsureImageResponse resp;
  std::unique_ptr<grpc::ClientWriterInterface<v1::EnsureImageChunk>> writer =
      stub.EnsureImage(&ctx, &resp);
  v1::EnsureImageChunk first;
  *first.mutable_manifest() = manifest;
  bool open = writer->Write(first);
  std::vector<char> buffer(kImageChunkBytes);
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    if (!open) break;
    std::string path = absl::StrCat(folder, "/", a.file());
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      ctx.TryCancel();
      writer->Finish().ok();
      return absl::NotFoundError(absl::StrCat("cannot open ", path));
    }
    while (open && in) {
      in.read(buffer.data(), buffer.size());
      if (in.gcount() == 0) break;
      v1::EnsureImageChunk chunk;
      chunk.mutable_chunk()->set_file(a.file());
      chunk.mutable_chunk()->set_data(buffer.data(), in.gcount());
      open = writer->Write(chunk);
    }
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  return resp;
}

}  // namespace labrack::worker
