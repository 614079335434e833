// The worker's image cache: artifacts stored read-only under <dir>/blobs/<sha256>, each
// verified against its manifest on arrival, and one manifest per image name under
// <dir>/manifests/. A layered image's disk is a qcow2 overlay whose header names the disk
// below it by that disk's sha256 alone, so the chain resolves inside blobs/ on any host.
// Thread-safe.
#ifndef LABRACK_WORKER_IMAGES_IMAGE_CACHE_H_
#define LABRACK_WORKER_IMAGES_IMAGE_CACHE_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "labrack/v1/types.pb.h"

namespace labrack::worker {

// One disk file of the cache with its format ("qcow2" or "raw").
struct CachedDisk {
  std::string path;
  std::string format;
};

// Paths of one cached image's artifacts.
struct CachedImage {
  v1::ImageManifest manifest;
  std::string disk_path;
  std::string disk_format;  // "qcow2" or "raw"
  uint64_t disk_virtual_bytes = 0;
  // What the disk is layered on, nearest first (its manifest's backing disks); empty when
  // the disk stands alone.
  std::vector<CachedDisk> backing_chain;
  std::string kernel_path;  // empty unless direct-kernel boot
  std::string initrd_path;
};

class ImageImport;

// The most ImageCache::ReadBlob returns at once.
inline constexpr uint32_t kMaxBlobReadBytes = 1 << 20;

class ImageCache {
 public:
  // Opens (creating as needed) a cache in `dir`. Internal when the folder cannot be made.
  static absl::StatusOr<std::unique_ptr<ImageCache>> Open(const std::string& dir);

  // Starts importing an image. InvalidArgument for a bad manifest or one whose artifacts
  // not yet cached add up to more than the import limit; ResourceExhausted, with the bytes
  // needed and free, when the cache's filesystem lacks room for them. When every artifact
  // is cached already, the import needs no bytes: Finish() succeeds at once.
  absl::StatusOr<std::unique_ptr<ImageImport>> BeginImport(const v1::ImageManifest& manifest);
  // Imports from files in `folder` named as in the manifest (e.g. images/out/tiny).
  absl::Status ImportFromFolder(const v1::ImageManifest& manifest, const std::string& folder);

  // The image of that name. NotFound when it was never imported.
  absl::StatusOr<CachedImage> Lookup(const std::string& name) const;
  std::vector<v1::ImageManifest> List() const;
  // Whether every artifact of `manifest` is present.
  bool Has(const v1::ImageManifest& manifest) const;

  // Makes the qcow2 file `overlay` (the changes to the disk of cached image `base`, e.g. a
  // node's disk copied while its guest was paused) the disk of a new image `name` at
  // `version`, layered on base: the file's header is made to name base's disk by its
  // sha256 and format (qemu-img rebase -u), the file becomes a read-only blob, and the
  // manifest takes base's boot mode, command line, kernel, initrd, readiness, defaults and
  // roles, and lists base's disk and its backing disks as backing disks. The file is moved
  // into the cache, or removed on failure. NotFound when base is not cached; AlreadyExists
  // when an image `name` is; InvalidArgument for a bad name or version; Internal when
  // qemu-img fails.
  absl::StatusOr<v1::ImageManifest> AddLayer(const std::string& name, const std::string& version,
                                             const std::string& base, const std::string& overlay);

  // The most bytes one import may bring (the artifacts it lacks, added up); 0: no limit.
  void SetMaxImportBytes(uint64_t bytes) { max_import_bytes_.store(bytes); }

  std::string BlobPath(const std::string& sha256) const;
  // At most max_bytes (0, or more than kMaxBlobReadBytes: that many) of the blob `sha256`
  // from `offset`; empty at its end. InvalidArgument naming sha256 when it is not one;
  // NotFound for a blob the cache does not hold.
  absl::StatusOr<std::string> ReadBlob(const std::string& sha256, uint64_t offset,
                                       uint32_t max_bytes) const;

 private:
  friend class ImageImport;
  explicit ImageCache(std::string dir) : dir_(std::move(dir)) {}
  absl::Status LoadManifests();
  // Whether the cache keeps exactly this manifest under its name.
  bool Holds(const v1::ImageManifest& manifest) const;
  // Keeps the manifest. With `replace` false, AlreadyExists when the name is taken.
  absl::Status Commit(const v1::ImageManifest& manifest, bool replace = true);
  // Whether the cached disks of `manifest` name each other in their headers exactly as its
  // chain says (and a disk that stands alone names nothing). InvalidArgument naming the
  // artifact otherwise.
  absl::Status VerifyBackingChain(const v1::ImageManifest& manifest) const;
  // Moves `overlay` into blobs/ as `staging`, names `below` in its header and returns the
  // file's sha256 and size.
  absl::StatusOr<v1::ImageArtifact> StageLayer(const std::string& overlay,
                                               const std::string& staging,
                                               const v1::ImageArtifact& below) const;

  const std::string dir_;
  std::atomic<uint64_t> max_import_bytes_{0};
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
  // kept then. InvalidArgument naming the file for an artifact that is neither cached nor
  // was sent. Returns true when nothing new was stored: every artifact was cached already
  // (bytes sent for one of them are verified, then dropped) and the cache held this very
  // manifest under its name.
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

// The disk artifact of a valid manifest.
const v1::ImageArtifact& DiskArtifact(const v1::ImageManifest& manifest);

// Virtual size of a qcow2 (from its header) or raw (its length) disk file.
absl::StatusOr<uint64_t> DiskVirtualSize(const std::string& path, const std::string& format);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_IMAGES_IMAGE_CACHE_H_
