#include "controller/capture/capture_api.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "controller/capture/image_pull.h"
#include "spdlog/spdlog.h"

namespace labrack::controller {
namespace {

constexpr uint32_t kMaxClones = 64;
// Room for "-<i>" within ValidateRequestId's 64 characters.
constexpr size_t kMaxCloneRequestId = 56;

std::string ImageVersion(const v1::Sandbox& sandbox) {
  return absl::StrCat(sandbox.sandbox_id(), ".", sandbox.generation());
}

std::string CloneRequestId(const std::string& request_id, uint32_t i) {
  return absl::StrCat(request_id, "-", i);
}

}  // namespace

std::string ClonePrefix(const v1::Sandbox& source) {
  std::string hex;
  for (char c : source.sandbox_id()) {
    if (c != '-' && hex.size() < 16) hex.push_back(c);
  }
  return absl::StrCat("clone-", hex, "-", source.generation());
}

absl::StatusOr<std::vector<v1::Image>> CaptureApi::Capture(const std::string& sandbox_id,
                                                           const std::string& image) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", sandbox_id));
  RETURN_IF_ERROR(ValidateImageName("image", image));
  ASSIGN_OR_RETURN(v1::Sandbox source, sandboxes_->Get(sandbox_id));
  ASSIGN_OR_RETURN(v1::Topology snapshot, store_->GetSandboxTopology(sandbox_id));
  return CaptureAs(source, snapshot, image);
}

absl::StatusOr<std::vector<v1::Image>> CaptureApi::CaptureAs(const v1::Sandbox& source,
                                                             const v1::Topology& snapshot,
                                                             const std::string& prefix) {
  if (source.phase() != v1::SANDBOX_PHASE_READY) {
    return absl::FailedPreconditionError(
        absl::StrCat("sandbox ", source.sandbox_id(), " is ", v1::SandboxPhase_Name(source.phase()),
                     "; only a READY sandbox can be captured"));
  }
  const std::string version = ImageVersion(source);
  absl::MutexLock lock(&capture_mu_);
  // Every name is free (or this very capture's, made before) before anything is made.
  for (const v1::Node& node : snapshot.nodes()) {
    std::string name = absl::StrCat(prefix, "-", node.name());
    RETURN_IF_ERROR(ValidateImageName("image", name));
    absl::StatusOr<worker::CachedImage> held = images_->Lookup(name);
    if (held.ok() && held->manifest.version() != version) {
      return absl::AlreadyExistsError(absl::StrCat(
          "image: '", name, "' exists already (version ", held->manifest.version(),
          "); capture under another name"));
    }
  }
  ASSIGN_OR_RETURN(HostRecord host, store_->GetHost(source.host_id()));
  std::shared_ptr<WorkerClient> worker = workers_->ForAddress(host.host.address());
  ASSIGN_OR_RETURN(std::vector<v1::ImageManifest> manifests,
                   worker->CaptureSandbox(source.sandbox_id(), source.generation(), prefix));
  std::vector<v1::Image> images;
  std::vector<std::string> names;
  uint64_t pulled = 0;
  for (const v1::ImageManifest& manifest : manifests) {
    ASSIGN_OR_RETURN(PulledImage pull, PullImage(*worker, manifest, *images_));
    v1::Image& image = images.emplace_back();
    *image.mutable_manifest() = manifest;
    image.set_already_present(pull.already_present);
    names.push_back(manifest.name());
    pulled += pull.bytes;
  }
  spdlog::info("sandbox {} (generation {}) captured as {}: {} bytes from host {}",
               source.sandbox_id(), source.generation(), absl::StrJoin(names, ", "), pulled,
               source.host_id());
  return images;
}

absl::StatusOr<v1::CloneSandboxResponse> CaptureApi::Clone(const v1::CloneSandboxRequest& request,
                                                           const std::string& owner) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", request.sandbox_id()));
  if (request.count() < 1 || request.count() > kMaxClones) {
    return absl::InvalidArgumentError(absl::StrCat("count: 1 to ", kMaxClones, ", not ", request.count()));
  }
  if (request.request_id().size() > kMaxCloneRequestId) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id: at most ", kMaxCloneRequestId, " characters for a clone"));
  }
  RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  RETURN_IF_ERROR(ValidateLabels(request.labels()));
  if (!request.request_id().empty()) {
    absl::StatusOr<v1::CloneSandboxResponse> earlier = Replay(request);
    if (!absl::IsNotFound(earlier.status())) return earlier;
  }
  ASSIGN_OR_RETURN(v1::Sandbox source, sandboxes_->Get(request.sandbox_id()));
  ASSIGN_OR_RETURN(v1::Topology snapshot, store_->GetSandboxTopology(source.sandbox_id()));
  const std::string prefix = ClonePrefix(source);
  v1::CloneSandboxResponse response;
  ASSIGN_OR_RETURN(std::vector<v1::Image> images, CaptureAs(source, snapshot, prefix));
  for (v1::Image& image : images) *response.add_images() = std::move(image);
  std::map<std::string, std::string> node_images;
  for (const v1::Node& node : snapshot.nodes()) {
    node_images[node.name()] = absl::StrCat(prefix, "-", node.name());
  }
  std::vector<std::string> request_ids;
  for (uint32_t i = 0; i < request.count(); ++i) {
    request_ids.push_back(request.request_id().empty() ? ""
                                                       : CloneRequestId(request.request_id(), i));
  }
  absl::StatusOr<std::vector<v1::Sandbox>> clones = sandboxes_->CreateClones(
      source, snapshot, node_images, request_ids, request.labels(), request.ttl_seconds(), owner);
  if (absl::IsResourceExhausted(clones.status())) {
    return absl::ResourceExhaustedError(
        absl::StrCat(request.count(), " clones of sandbox ", source.sandbox_id(),
                     " do not all fit, so none was made (their images stay): ",
                     clones.status().message()));
  }
  RETURN_IF_ERROR(clones.status());
  for (v1::Sandbox& clone : *clones) *response.add_sandboxes() = std::move(clone);
  return response;
}

absl::StatusOr<v1::CloneSandboxResponse> CaptureApi::Replay(const v1::CloneSandboxRequest& request) {
  const std::string& id = request.request_id();
  RETURN_IF_ERROR(store_->GetSandboxByRequestId(CloneRequestId(id, 0)).status());
  const absl::Status other_count = absl::InvalidArgumentError(
      absl::StrCat("request_id: '", id, "' made a number of clones other than ", request.count(),
                   "; a different clone needs a new request_id"));
  v1::CloneSandboxResponse response;
  for (uint32_t i = 0; i < request.count(); ++i) {
    absl::StatusOr<v1::Sandbox> clone = store_->GetSandboxByRequestId(CloneRequestId(id, i));
    if (absl::IsNotFound(clone.status())) return other_count;
    RETURN_IF_ERROR(clone.status());
    if (clone->cloned_from() != request.sandbox_id()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "request_id: '", id, "' made clones of sandbox ", clone->cloned_from(), ", not of ",
          request.sandbox_id(), "; a different clone needs a new request_id"));
    }
    *response.add_sandboxes() = *std::move(clone);
  }
  if (store_->GetSandboxByRequestId(CloneRequestId(id, request.count())).ok()) return other_count;
  ASSIGN_OR_RETURN(v1::Topology snapshot,
                   store_->GetSandboxTopology(response.sandboxes(0).sandbox_id()));
  for (const v1::Node& node : snapshot.nodes()) {
    ASSIGN_OR_RETURN(worker::CachedImage image, images_->Lookup(node.image()));
    v1::Image& out = *response.add_images();
    *out.mutable_manifest() = image.manifest;
    out.set_already_present(true);
  }
  return response;
}

}  // namespace labrack::controller
