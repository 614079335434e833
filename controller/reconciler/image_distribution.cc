#include "controller/reconciler/image_distribution.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/scheduler/scheduler.h"

namespace labrack::controller {
namespace {

// Same name and the same bytes (every artifact's sha256).
bool SameImage(const v1::ImageManifest& a, const v1::ImageManifest& b) {
  if (a.name() != b.name() || a.artifacts_size() != b.artifacts_size()) return false;
  for (int i = 0; i < a.artifacts_size(); ++i) {
    if (a.artifacts(i).sha256() != b.artifacts(i).sha256()) return false;
  }
  return true;
}

std::string Fingerprint(const v1::ImageManifest& m) {
  std::string fp = m.name();
  for (const v1::ImageArtifact& a : m.artifacts()) absl::StrAppend(&fp, "/", a.sha256());
  return fp;
}

}  // namespace

absl::Status ImageDistributor::EnsureImages(const HostRecord& host, const v1::Topology& topology,
                                            WorkerClient& client) {
  for (const std::string& name : ImagesOf(topology)) {
    RETURN_IF_ERROR(EnsureImage(host, name, client));
  }
  return absl::OkStatus();
}

absl::Status ImageDistributor::EnsureImage(const HostRecord& host, const std::string& name,
                                           WorkerClient& client) {
  absl::StatusOr<worker::CachedImage> image = images_->Lookup(name);
  if (!image.ok()) {
    return absl::NotFoundError(absl::StrCat("image ", name, " is not in the controller's store"));
  }
  const v1::ImageManifest& manifest = image->manifest;
  std::string key = absl::StrCat(host.host.host_id(), "/", Fingerprint(manifest));
  for (const v1::ImageManifest& m : host.inventory.images()) {
    if (SameImage(m, manifest)) return absl::OkStatus();
  }
  std::shared_ptr<absl::Mutex> lock = LockFor(key);
  absl::MutexLock transfer(lock.get());
  {
    absl::MutexLock l(&mu_);
    if (sent_.contains(key)) return absl::OkStatus();
  }
  RETURN_IF_ERROR(client.EnsureImage(manifest, [this](const v1::ImageArtifact& a) {
    return images_->BlobPath(a.sha256());
  }));
  absl::MutexLock l(&mu_);
  sent_.insert(key);
  return absl::OkStatus();
}

void ImageDistributor::ForgetHost(const std::string& host_id) {
  absl::MutexLock l(&mu_);
  std::string prefix = absl::StrCat(host_id, "/");
  for (auto it = sent_.lower_bound(prefix); it != sent_.end() && it->starts_with(prefix);) {
    it = sent_.erase(it);
  }
}

std::shared_ptr<absl::Mutex> ImageDistributor::LockFor(const std::string& key) {
  absl::MutexLock l(&mu_);
  std::shared_ptr<absl::Mutex>& m = locks_[key];
  if (!m) m = std::make_shared<absl::Mutex>();
  return m;
}

}  // namespace labrack::controller
