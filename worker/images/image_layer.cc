// Layered images in the image cache (see image_cache.h): checking that a chain's disks name
// each other as its manifest says, and making a captured overlay a new image on a cached one.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/topology/manifest_yaml.h"
#include "common/uuid.h"
#include "worker/host/host_command.h"
#include "worker/images/image_cache.h"
#include "worker/images/qcow2_header.h"

namespace labrack::worker {
namespace fs = std::filesystem;
namespace {

constexpr absl::Duration kQemuImgTimeout = absl::Seconds(60);
constexpr char kLayerFile[] = "disk.qcow2";

// The image's disks from the top: its disk, then its backing disks in order.
std::vector<const v1::ImageArtifact*> ChainOf(const v1::ImageManifest& manifest) {
  std::vector<const v1::ImageArtifact*> chain = {&DiskArtifact(manifest)};
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    if (a.kind() == v1::ARTIFACT_KIND_BACKING_DISK) chain.push_back(&a);
  }
  return chain;
}

std::string Describe(const Qcow2Backing& backing) {
  if (backing.file.empty()) return "no backing file";
  return absl::StrCat("\"", backing.file, "\" (",
                      backing.format.empty() ? "format not stated" : backing.format, ")");
}

// Moves a file, copying it when it lies on another file system.
absl::Status MoveFile(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) == 0) return absl::OkStatus();
  if (errno != EXDEV) {
    return absl::InternalError(absl::StrCat("move ", from, " to ", to, ": ", strerror(errno)));
  }
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return absl::InternalError(absl::StrCat("copy ", from, " to ", to, ": ", ec.message()));
  fs::remove(from, ec);
  return absl::OkStatus();
}

// The manifest of image `name` whose disk `layer` lies on the disk of `base`.
v1::ImageManifest LayeredManifest(const v1::ImageManifest& base, const std::string& name,
                                  const std::string& version, const v1::ImageArtifact& layer) {
  v1::ImageManifest m = base;
  m.set_name(name);
  m.set_version(version);
  m.clear_artifacts();
  for (const v1::ImageArtifact& a : base.artifacts()) {
    if (a.kind() == v1::ARTIFACT_KIND_KERNEL || a.kind() == v1::ARTIFACT_KIND_INITRD) {
      *m.add_artifacts() = a;
    }
  }
  *m.add_artifacts() = layer;
  for (const v1::ImageArtifact* a : ChainOf(base)) {
    v1::ImageArtifact* below = m.add_artifacts();
    *below = *a;
    below->set_kind(v1::ARTIFACT_KIND_BACKING_DISK);
    // Named as the level above names it, so that a folder of the image's files (as
    // ImportFromFolder reads) holds a chain that qemu-img resolves too.
    below->set_file(a->sha256());
  }
  return m;
}

}  // namespace

absl::Status ImageCache::VerifyBackingChain(const v1::ImageManifest& manifest) const {
  std::vector<const v1::ImageArtifact*> chain = ChainOf(manifest);
  for (size_t i = 0; i < chain.size(); ++i) {
    const v1::ImageArtifact& a = *chain[i];
    if (a.format() != "qcow2") continue;  // raw ends a chain (validation sees to it)
    ASSIGN_OR_RETURN(Qcow2Backing named, ReadQcow2Backing(BlobPath(a.sha256())));
    Qcow2Backing want;
    if (i + 1 < chain.size()) want = {chain[i + 1]->sha256(), chain[i + 1]->format()};
    if (named.file == want.file && named.format == want.format) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        "image ", manifest.name(), ": the qcow2 header of ", a.file(), " names ", Describe(named),
        " as its backing file, but the manifest says ", Describe(want)));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ImageArtifact> ImageCache::StageLayer(const std::string& overlay,
                                                         const std::string& staging,
                                                         const v1::ImageArtifact& below) const {
  RETURN_IF_ERROR(MoveFile(overlay, staging));
  // -u: only the header changes; the bare sha256 resolves beside the file in blobs/.
  RETURN_IF_ERROR(RunHostCommand({"qemu-img", "rebase", "-u", "-f", "qcow2", "-b", below.sha256(),
                                  "-F", below.format(), staging},
                                 kQemuImgTimeout));
  v1::ImageArtifact layer;
  layer.set_kind(v1::ARTIFACT_KIND_DISK);
  layer.set_file(kLayerFile);
  layer.set_format("qcow2");
  ASSIGN_OR_RETURN(*layer.mutable_sha256(), Sha256OfFile(staging));
  std::error_code ec;
  layer.set_size_bytes(fs::file_size(staging, ec));
  if (ec) return absl::InternalError(absl::StrCat("size of ", staging, ": ", ec.message()));
  return layer;
}

absl::StatusOr<v1::ImageManifest> ImageCache::AddLayer(const std::string& name,
                                                       const std::string& version,
                                                       const std::string& base,
                                                       const std::string& overlay) {
  const std::string staging = absl::StrCat(dir_, "/blobs/.layer-", NewUuid4());
  absl::Cleanup remove = [&] {
    std::remove(overlay.c_str());
    std::remove(staging.c_str());
  };
  RETURN_IF_ERROR(ValidateImageName("name", name));
  if (absl::StatusOr<CachedImage> taken = Lookup(name); taken.ok()) {
    return absl::AlreadyExistsError(absl::StrCat("image \"", name, "\" exists already (version ",
                                                 taken->manifest.version(), ")"));
  }
  ASSIGN_OR_RETURN(CachedImage below, Lookup(base));
  ASSIGN_OR_RETURN(v1::ImageArtifact layer,
                   StageLayer(overlay, staging, DiskArtifact(below.manifest)));
  v1::ImageManifest manifest = LayeredManifest(below.manifest, name, version, layer);
  RETURN_IF_ERROR(ValidateImageManifest(manifest));
  chmod(staging.c_str(), 0444);
  // A blob with this sha256 holds the same bytes: replacing it changes nothing.
  std::string blob = BlobPath(layer.sha256());
  if (std::rename(staging.c_str(), blob.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename to ", blob, ": ", strerror(errno)));
  }
  RETURN_IF_ERROR(VerifyBackingChain(manifest));
  RETURN_IF_ERROR(Commit(manifest, /*replace=*/false));
  return manifest;
}

}  // namespace labrack::worker
