#include "worker/client/image_upload.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"

namespace labrack::worker {
namespace {

using ChunkWriter = grpc::ClientWriterInterface<v1::EnsureImageChunk>;

// Streams one artifact's file. OK with *open false when the worker stopped reading (its
// status comes from Finish()); NotFound / DataLoss when the file fails us.
absl::Status SendArtifact(ChunkWriter& writer, const v1::ImageArtifact& artifact,
                          const std::string& path, std::vector<char>& buffer, bool* open) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat("artifact ", artifact.file(), ": cannot open ", path));
  while (*open && in) {
    in.read(buffer.data(), buffer.size());
    if (in.gcount() == 0) break;
    v1::EnsureImageChunk chunk;
    chunk.mutable_chunk()->set_file(artifact.file());
    chunk.mutable_chunk()->set_data(buffer.data(), in.gcount());
    *open = writer.Write(chunk);
  }
  if (in.bad())
    return absl::DataLossError(absl::StrCat("artifact ", artifact.file(), ": cannot read ", path));
  return absl::OkStatus();
}

}  // namespace


absl::StatusOr<v1::EnsureImageResponse> UploadImageArtifacts(v1::LabWorker::StubInterface& stub,
                                                             const v1::ImageManifest& manifest,
                                                             const ArtifactPathFn& path_of,
                                                             absl::Duration deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  v1::EnsureImageResponse resp;
  std::unique_ptr<ChunkWriter> writer = stub.EnsureImage(&ctx, &resp);
  v1::EnsureImageChunk first;
  *first.mutable_manifest() = manifest;
  bool open = writer->Write(first);
  std::vector<char> buffer(kImageChunkBytes);
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    if (!open) break;
    absl::Status sent = SendArtifact(*writer, a, path_of(a), buffer, &open);
    if (!sent.ok()) {
      ctx.TryCancel();  // the worker must not keep a partial artifact
      writer->Finish().ok();
      return sent;
    }
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return FromGrpc(status);
  return resp;
}

absl::StatusOr<v1::EnsureImageResponse> UploadImage(v1::LabWorker::StubInterface& stub,
                                                    const v1::ImageManifest& manifest,
                                                    const std::string& folder,
                                                    absl::Duration deadline) {
  return UploadImageArtifacts(
      stub, manifest,
      [&folder](const v1::ImageArtifact& a) { return absl::StrCat(folder, "/", a.file()); },
      deadline);
}

}  // namespace labrack::worker
