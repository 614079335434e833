// Sends a host the images a sandbox needs before it is built there: from the controller's
// image cache, in chunks, verified by sha256 on arrival (by the worker). An image the host
// already reported, or that this controller already sent it, is not sent again; two builds
// that need the same image on the same host send it once. Thread-safe.
#ifndef LABRACK_CONTROLLER_RECONCILER_IMAGE_DISTRIBUTION_H_
#define LABRACK_CONTROLLER_RECONCILER_IMAGE_DISTRIBUTION_H_

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "controller/store/store.h"
#include "controller/workers/worker_client.h"
#include "labrack/v1/types.pb.h"
#include "worker/images/image_cache.h"

namespace labrack::controller {

class ImageDistributor {
 public:
  explicit ImageDistributor(worker::ImageCache* images) : images_(images) {}

  // Makes sure `host` has every image of `topology`. NotFound when the controller lacks one;
  // the worker's status (Unavailable, DataLoss...) when a transfer fails.
  absl::Status EnsureImages(const HostRecord& host, const v1::Topology& topology,
                            WorkerClient& client);
  // Forgets what was sent to a host, e.g. after it reported an image missing.
  void ForgetHost(const std::string& host_id);

 private:
  absl::Status EnsureImage(const HostRecord& host, const std::string& name, WorkerClient& client);
  std::shared_ptr<absl::Mutex> LockFor(const std::string& key);

  worker::ImageCache* const images_;
  absl::Mutex mu_;
  // "host/sha256-of-disk" of images known to be on a host.
  std::set<std::string> sent_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<absl::Mutex>> locks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_RECONCILER_IMAGE_DISTRIBUTION_H_
