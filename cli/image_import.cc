// Streams like worker/client/image_upload.cc does towards a worker, with the same chunk
// size, but to LabController and with progress. Sizes are checked before the first byte
// goes out, so that a truncated copy of an image fails fast and names the file. Artifacts
// whose sha256 the store holds already (as ListImages shows) are not sent.
#include "cli/image_import.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/topology/manifest_yaml.h"
#include "worker/client/image_upload.h"

namespace labrack::cli {
namespace {

using ChunkWriter = grpc::ClientWriterInterface<v1::EnsureImageChunk>;

struct Sending {
  ChunkWriter* writer;
  std::vector<char> buffer = std::vector<char>(worker::kImageChunkBytes);
  uint64_t sent = 0;
  uint64_t total = 0;
  bool open = true;  // false once the controller stopped reading (Finish tells why)
};

std::string ArtifactPath(const std::string& folder, const v1::ImageArtifact& a) {
  return (std::filesystem::path(folder) / a.file()).string();
}

// The sum of the artifacts' sizes, after checking that each file has the size the
// manifest gives.
absl::StatusOr<uint64_t> CheckArtifacts(const v1::ImageManifest& manifest,
                                        const std::string& folder) {
  uint64_t total = 0;
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    std::string path = ArtifactPath(folder, a);
    std::error_code ec;
    uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) {
      return absl::NotFoundError(
          absl::StrCat("artifact ", a.file(), ": cannot read ", path, ": ", ec.message()));
    }
    if (size != a.size_bytes()) {
      return absl::InvalidArgumentError(
          absl::StrCat("artifact ", a.file(), ": ", path, " has ", size,
                       " bytes but the manifest's size_bytes is ", a.size_bytes()));
    }
    total += size;
  }
  return total;
}

// The sha256 of every artifact of every image in the controller's store. Empty when the
// store cannot be listed: then every artifact is sent.
std::set<std::string> HeldArtifacts(ControllerClient& client) {
  std::set<std::string> held;
  absl::StatusOr<v1::ListImagesResponse> images =
      client.Call(&v1::LabController::Stub::ListImages, v1::ListImagesRequest());
  if (!images.ok()) return held;
  for (const v1::Image& image : images->images()) {
    for (const v1::ImageArtifact& a : image.manifest().artifacts()) held.insert(a.sha256());
  }
  return held;
}

absl::Status SendArtifact(Sending& s, const v1::ImageArtifact& artifact, const std::string& path,
                          const ImportProgressFn& progress) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat("artifact ", artifact.file(), ": cannot open ", path));
  while (s.open && in) {
    in.read(s.buffer.data(), s.buffer.size());
    if (in.gcount() == 0) break;
    v1::EnsureImageChunk chunk;
    chunk.mutable_chunk()->set_file(artifact.file());
    chunk.mutable_chunk()->set_data(s.buffer.data(), in.gcount());
    s.open = s.writer->Write(chunk);
    s.sent += in.gcount();
    if (progress) progress(s.sent, s.total);
  }
  if (in.bad())
    return absl::DataLossError(absl::StrCat("artifact ", artifact.file(), ": cannot read ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ImportResult> ImportImageFromManifest(ControllerClient& client,
                                                    const std::string& manifest_path,
                                                    absl::Duration timeout,
                                                    const ImportProgressFn& progress) {
  ASSIGN_OR_RETURN(v1::ImageManifest manifest, LoadImageManifestFile(manifest_path));
  std::filesystem::path parent = std::filesystem::path(manifest_path).parent_path();
  const std::string folder = parent.empty() ? std::string(".") : parent.string();
  ASSIGN_OR_RETURN(uint64_t total, CheckArtifacts(manifest, folder));
  const std::set<std::string> held = HeldArtifacts(client);
  ImportResult result;
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    if (!held.contains(a.sha256())) continue;
    ++result.artifacts_held;
    total -= a.size_bytes();
  }

  grpc::ClientContext ctx;
  client.SetDeadline(ctx, timeout);
  std::unique_ptr<ChunkWriter> writer = client.stub().ImportImage(&ctx, &result.image);
  Sending s{writer.get()};
  s.total = total;
  v1::EnsureImageChunk first;
  *first.mutable_manifest() = manifest;
  s.open = writer->Write(first);
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    if (!s.open) break;
    if (held.contains(a.sha256())) continue;  // the store has these bytes already
    absl::Status sent = SendArtifact(s, a, ArtifactPath(folder, a), progress);
    if (!sent.ok()) {
      ctx.TryCancel();  // the controller must not keep a partial artifact
      writer->Finish().ok();
      return sent;
    }
  }
  if (s.open) writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return client.ToStatus(status);
  result.bytes_sent = s.sent;
  return result;
}

}  // namespace labrack::cli
