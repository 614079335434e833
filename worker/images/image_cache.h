// The worker's image cache: artifacts stored read-only under <dir>/blobs/<sha256>, each
// verified against its manifest on arrival, and one manifest per image name under
// <dir>/manifests/. Thread-safe.
#ifndef LABRACK_WORKER_IMAGES_IMAGE_CACHE_H_
#define LABRACK_WORKER_IMAGES_IMAGE_CACHE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "labrack/v1/types.pb.h"

namespace labrack::worker {

// Paths of one cached image's artifacts.
struct CachedImage {
  v1::ImageManifest manifest;
  std::string disk_path;
  std::string disk_format;  // "qcow2" or "raw"
  uint64_t disk_virtual_bytes = 0;
  std::string kernel_path;  // empty unless direct-kernel boot
  std::string initrd_path;
};

class ImageImport;

class ImageCache {
 public:
  // Opens (creating as needed) a cache in `dir`. Internal when the folder cannot be made.
  static absl::StatusOr<std::unique_ptr<ImageCache>> Open(const std::string& dir);

  // Starts importing an image. InvalidArgument for a bad manifest. When every artifact is
  // cached already, the import needs no bytes: Finish() succeeds at once.
  absl::StatusOr<std::unique_ptr<ImageImport>> BeginImport(const v1::ImageManifest& manifest);
  // Imports from files in `folder` named as in the manifest (e.g. images/out/tiny).
  absl::Status ImportFromFolder(const v1::ImageManifest& manifest, const std::string& folder);

  // The image of that name. NotFound when it was never imported.
  absl::StatusOr<CachedImage> Lookup(const std::string& name) const;
  std::vector<v1::ImageManifest> List() const;
  // Whether every artifact of `manifest` is present.
  bool Has(const v1::ImageManifest& manifest) const;

  std::string BlobPath(const std::string& sha256) const;

 private:
  friend class ImageImport;
  explicit ImageCache(std::string dir) : dir_(std::move(dir)) {}
  absl::Status LoadManifests();
  absl::Status Commit(const v1::ImageManifest& manifest);

  const std::string dir_;
  mutable absl::Mutex mu_;
  std::map<std::string, v1::ImageManifest> manifests_ ABSL_GUARDED_BY(mu_);
};

// One image arriving in pieces. Artifacts may come in any order, each as consecutive
// chunks. Not thread-safe; abandoning it leaves nothing behind.
class ImageImport {
 public:
  ~ImageImport();
  // InvalidArgument for a file the manifest does not list, or one already complete, or
  // more bytes than its size.
  absl::Status Write(const std::string& file, absl::string_view data);
  // DataLoss when an artifact's sha256 or size does not match the manifest; nothing is
  // kept then. Returns whether everything was cached already.
  absl::StatusOr<bool> Finish();

 private:
  friend class ImageCache;
  struct Pending;
  ImageImport(ImageCache* cache, v1::ImageManifest manifest);

  absl::Status FinishArtifact(Pending& pending);

  ImageCache* cache_;
  v1::ImageManifest manifest_;
  std::map<std::string, std::unique_ptr<Pending>> pending_;
  bool already_present_ = true;
};

// Virtual size of a qcow2 (from its header) or raw (its length) disk file.
absl::StatusOr<uint64_t> DiskVirtualSize(const std::string& path, const std::string& format);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_IMAGES_IMAGE_CACHE_H_
