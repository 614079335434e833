// The capture and clone calls of the public API. Capture asks the sandbox's worker to make
// each node's current disk an image layered on the node's image, then pulls those images
// into the controller's image store, from which the reconciler sends them to any host like
// any image. Clone captures the sandbox under names of its own and makes new sandboxes
// whose nodes each run their node's captured image. Captures run one at a time, so two of
// the same name never race. Thread-safe.
#ifndef LABRACK_CONTROLLER_CAPTURE_CAPTURE_API_H_
#define LABRACK_CONTROLLER_CAPTURE_CAPTURE_API_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/core/sandbox_api.h"
#include "controller/store/store.h"
#include "controller/workers/worker_client.h"
#include "labrack/v1/controller.pb.h"
#include "worker/images/image_cache.h"

namespace labrack::controller {

class CaptureApi {
 public:
  CaptureApi(Store* store, worker::ImageCache* images, WorkerDirectory* workers,
             SandboxApi* sandboxes)
      : store_(store), images_(images), workers_(workers), sandboxes_(sandboxes) {}

  // Images <image>-<node>, one per node in the topology's order, at version
  // <sandbox_id>.<generation>. InvalidArgument naming `image` when a name would be invalid;
  // NotFound for an unknown sandbox; FailedPrecondition unless READY; AlreadyExists when an
  // image of such a name exists at another version; Unavailable when its host cannot be
  // reached; the worker's error as is.
  absl::StatusOr<std::vector<v1::Image>> Capture(const std::string& sandbox_id,
                                                 const std::string& image);
  // CloneSandbox (controller.proto). InvalidArgument for a bad count, request_id, label or
  // ttl, or a request_id that made other clones; the errors of Capture; ResourceExhausted
  // with needed and free capacity when the clones do not all fit.
  // `owner`: the caller's token name, the clones' owner.
  absl::StatusOr<v1::CloneSandboxResponse> Clone(const v1::CloneSandboxRequest& request,
                                                 const std::string& owner = "");

 private:
  absl::StatusOr<std::vector<v1::Image>> CaptureAs(const v1::Sandbox& source,
                                                   const v1::Topology& snapshot,
                                                   const std::string& prefix);
  // The clones an earlier call with this request's request_id made; NotFound when none.
  absl::StatusOr<v1::CloneSandboxResponse> Replay(const v1::CloneSandboxRequest& request);

  Store* const store_;
  worker::ImageCache* const images_;
  WorkerDirectory* const workers_;
  SandboxApi* const sandboxes_;
  absl::Mutex capture_mu_;
};

// The prefix of a clone's images: clone-<first 16 hex digits of the id>-<generation>.
std::string ClonePrefix(const v1::Sandbox& source);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CAPTURE_CAPTURE_API_H_
