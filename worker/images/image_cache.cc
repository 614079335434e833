#include "worker/images/image_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/file_range.h"
#include "common/names.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/topology/manifest_yaml.h"

namespace labrack::worker {
namespace fs = std::filesystem;

namespace {

absl::Status MakeDir(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("create folder ", path, ": ", ec.message()));
  // qemu runs as another user and must reach the read-only blobs.
  fs::permissions(path, fs::perms(0755), ec);
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  std::string tmp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("write ", tmp, ": ", strerror(errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename ", tmp, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

uint64_t ReadBigEndian64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

absl::StatusOr<uint64_t> DiskVirtualSize(const std::string& path, const std::string& format) {
  std::error_code ec;
  if (format == "raw") {
    uint64_t size = fs::file_size(path, ec);
    if (ec) return absl::NotFoundError(absl::StrCat("size of ", path, ": ", ec.message()));
    return size;
  }
  // qcow2 header: magic "QFI\xfb" at 0, virtual size (big-endian u64) at 24.
  unsigned char header[32];
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(header), sizeof(header))) {
    return absl::DataLossError(absl::StrCat(path, ": too short for a qcow2 header"));
  }
  if (std::memcmp(header, "QFI\xfb", 4) != 0) {
    return absl::DataLossError(absl::StrCat(path, ": not a qcow2 file"));
  }
  return ReadBigEndian64(header + 24);
}

absl::StatusOr<std::unique_ptr<ImageCache>> ImageCache::Open(const std::string& dir) {
  RETURN_IF_ERROR(MakeDir(dir));
  RETURN_IF_ERROR(MakeDir(absl::StrCat(dir, "/blobs")));
  RETURN_IF_ERROR(MakeDir(absl::StrCat(dir, "/manifests")));
  std::unique_ptr<ImageCache> cache(new ImageCache(dir));
  RETURN_IF_ERROR(cache->LoadManifests());
  return cache;
}

absl::Status ImageCache::LoadManifests() {
  absl::MutexLock lock(&mu_);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(absl::StrCat(dir_, "/manifests"), ec)) {
    if (entry.path().extension() != ".pb") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    v1::ImageManifest manifest;
    if (!manifest.ParseFromIstream(&in) || !ValidateImageManifest(manifest).ok()) {
      continue;  // a torn or foreign file: the image is simply not cached
    }
    manifests_[manifest.name()] = manifest;
  }
  if (ec) return absl::InternalError(absl::StrCat("read ", dir_, ": ", ec.message()));
  return absl::OkStatus();
}

std::string ImageCache::BlobPath(const std::string& sha256) const {
  return absl::StrCat(dir_, "/blobs/", sha256);
}

absl::StatusOr<std::string> ImageCache::ReadBlob(const std::string& sha256, uint64_t offset,
                                                uint32_t max_bytes) const {
  RETURN_IF_ERROR(ValidateSha256("sha256", sha256));
  uint32_t max = max_bytes == 0 ? kMaxBlobReadBytes : std::min(max_bytes, kMaxBlobReadBytes);
  absl::StatusOr<std::string> data = ReadFileRange(BlobPath(sha256), offset, max);
  if (absl::IsNotFound(data.status())) {
    return absl::NotFoundError(absl::StrCat("no blob ", sha256, " in this image cache"));
  }
  return data;
}

bool ImageCache::Has(const v1::ImageManifest& manifest) const {
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    if (!fs::exists(BlobPath(a.sha256()))) return false;
  }
  return true;
}

bool ImageCache::Holds(const v1::ImageManifest& manifest) const {
  absl::MutexLock lock(&mu_);
  auto it = manifests_.find(manifest.name());
  return it != manifests_.end() &&
         it->second.SerializeAsString() == manifest.SerializeAsString();
}

absl::Status ImageCache::Commit(const v1::ImageManifest& manifest, bool replace) {
  std::string bytes;
  manifest.SerializeToString(&bytes);
  // Held while writing, so that two new images of one name cannot both be kept.
  absl::MutexLock lock(&mu_);
  if (!replace && manifests_.contains(manifest.name())) {
    return absl::AlreadyExistsError(absl::StrCat("image \"", manifest.name(), "\" exists already"));
  }
  RETURN_IF_ERROR(
      WriteFileAtomically(absl::StrCat(dir_, "/manifests/", manifest.name(), ".pb"), bytes));
  manifests_[manifest.name()] = manifest;
  return absl::OkStatus();
}

const v1::ImageArtifact& DiskArtifact(const v1::ImageManifest& manifest) {
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    if (a.kind() == v1::ARTIFACT_KIND_DISK) return a;
  }
  return v1::ImageArtifact::default_instance();
}

absl::StatusOr<CachedImage> ImageCache::Lookup(const std::string& name) const {
  v1::ImageManifest manifest;
  {
    absl::MutexLock lock(&mu_);
    auto it = manifests_.find(name);
    if (it == manifests_.end()) {
      return absl::NotFoundError(absl::StrCat("image \"", name, "\" is not in this host's cache"));
    }
    manifest = it->second;
  }
  CachedImage image;
  image.manifest = manifest;
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    std::string path = BlobPath(a.sha256());
    switch (a.kind()) {
      case v1::ARTIFACT_KIND_DISK:
        image.disk_path = path;
        image.disk_format = a.format();
        break;
      case v1::ARTIFACT_KIND_KERNEL:
        image.kernel_path = path;
        break;
      case v1::ARTIFACT_KIND_INITRD:
        image.initrd_path = path;
        break;
      case v1::ARTIFACT_KIND_BACKING_DISK:
        image.backing_chain.push_back({path, a.format()});
        break;
      default:
        break;
    }
  }
  ASSIGN_OR_RETURN(image.disk_virtual_bytes, DiskVirtualSize(image.disk_path, image.disk_format));
  return image;
}

std::vector<v1::ImageManifest> ImageCache::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::ImageManifest> out;
  for (const auto& [name, manifest] : manifests_) out.push_back(manifest);
  return out;
}

absl::StatusOr<std::unique_ptr<ImageImport>> ImageCache::BeginImport(
    const v1::ImageManifest& manifest) {
  RETURN_IF_ERROR(ValidateImageManifest(manifest));
  uint64_t needed = 0;
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    if (!fs::exists(BlobPath(a.sha256()))) needed += a.size_bytes();
  }
  const uint64_t limit = max_import_bytes_.load();
  if (limit > 0 && needed > limit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "manifest.artifacts: ", needed, " bytes to import, more than the limit of ", limit,
        " bytes per image (--max-image-bytes)"));
  }
  std::error_code ec;
  fs::space_info space = fs::space(dir_, ec);
  if (!ec && needed > space.available) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "image ", manifest.name(), " needs ", needed, " bytes in ", dir_, ", which has ",
        space.available, " free; nothing was written"));
  }
  return std::unique_ptr<ImageImport>(new ImageImport(this, manifest));
}

absl::Status ImageCache::ImportFromFolder(const v1::ImageManifest& manifest,
                                          const std::string& folder) {
  ASSIGN_OR_RETURN(std::unique_ptr<ImageImport> import, BeginImport(manifest));
  std::vector<char> buffer(1 << 20);
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    if (fs::exists(BlobPath(a.sha256()))) continue;  // cached already: no bytes needed
    std::string path = absl::StrCat(folder, "/", a.file());
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    while (in) {
      in.read(buffer.data(), buffer.size());
      RETURN_IF_ERROR(import->Write(a.file(), absl::string_view(buffer.data(), in.gcount())));
    }
  }
  return import->Finish().status();
}

// ---- ImageImport ----

struct ImageImport::Pending {
  const v1::ImageArtifact* artifact;
  std::string tmp_path;
  std::ofstream out;
  Sha256 sha;
  uint64_t written = 0;
};

ImageImport::ImageImport(ImageCache* cache, v1::ImageManifest manifest)
    : cache_(cache), manifest_(std::move(manifest)) {}

ImageImport::~ImageImport() {
  for (auto& [file, pending] : pending_) {
    if (pending) std::remove(pending->tmp_path.c_str());
  }
}

absl::Status ImageImport::Write(const std::string& file, absl::string_view data) {
  auto it = pending_.find(file);
  if (it == pending_.end()) {
    const v1::ImageArtifact* artifact = nullptr;
    for (const v1::ImageArtifact& a : manifest_.artifacts()) {
      if (a.file() == file) artifact = &a;
    }
    if (artifact == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("chunk.file \"", file, "\": not an artifact of image ", manifest_.name()));
    }
    auto pending = std::make_unique<Pending>();
    pending->artifact = artifact;
    pending->tmp_path = absl::StrCat(cache_->BlobPath(artifact->sha256()), ".part-",
                                     reinterpret_cast<uintptr_t>(this));
    pending->out.open(pending->tmp_path, std::ios::binary | std::ios::trunc);
    if (!pending->out) {
      return absl::InternalError(absl::StrCat("create ", pending->tmp_path, ": ", strerror(errno)));
    }
    it = pending_.emplace(file, std::move(pending)).first;
  }
  Pending& p = *it->second;
  if (p.written + data.size() > p.artifact->size_bytes()) {
    return absl::InvalidArgumentError(absl::StrCat("chunk.data: artifact ", file, " is longer than its ",
                                                   p.artifact->size_bytes(), " bytes"));
  }
  p.out.write(data.data(), data.size());
  p.sha.Update(data);
  p.written += data.size();
  if (!p.out) return absl::InternalError(absl::StrCat("write ", p.tmp_path, ": ", strerror(errno)));
  return absl::OkStatus();
}

absl::Status ImageImport::FinishArtifact(Pending& p) {
  p.out.close();
  const v1::ImageArtifact& a = *p.artifact;
  std::string digest = p.sha.HexDigest();
  if (p.written != a.size_bytes() || digest != a.sha256()) {
    return absl::DataLossError(absl::StrCat("artifact ", a.file(), " of image ", manifest_.name(),
                                            ": got ", p.written, " bytes with sha256 ", digest,
                                            ", manifest says ", a.size_bytes(), " bytes with sha256 ",
                                            a.sha256()));
  }
  std::string final_path = cache_->BlobPath(a.sha256());
  if (fs::exists(final_path)) {
    std::remove(p.tmp_path.c_str());  // the same bytes are held already: nothing new
    return absl::OkStatus();
  }
  chmod(p.tmp_path.c_str(), 0444);
  if (std::rename(p.tmp_path.c_str(), final_path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename to ", final_path, ": ", strerror(errno)));
  }
  already_present_ = false;
  return absl::OkStatus();
}

absl::StatusOr<bool> ImageImport::Finish() {
  for (auto& [file, pending] : pending_) RETURN_IF_ERROR(FinishArtifact(*pending));
  pending_.clear();
  for (int i = 0; i < manifest_.artifacts_size(); ++i) {
    const v1::ImageArtifact& a = manifest_.artifacts(i);
    if (!std::filesystem::exists(cache_->BlobPath(a.sha256()))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "manifest.artifacts[", i, "]: ", a.file(), " of image ", manifest_.name(),
          " is not in the store (no blob with sha256 ", a.sha256(),
          ") and no bytes of it were sent; send it in chunks with chunk.file \"", a.file(), "\""));
    }
  }
  RETURN_IF_ERROR(cache_->VerifyBackingChain(manifest_));
  if (cache_->Holds(manifest_)) return already_present_;
  RETURN_IF_ERROR(cache_->Commit(manifest_));
  return false;
}

}  // namespace labrack::worker
