// SandboxManager::CaptureSandbox: each node's disk as it is now, kept as a new image layered
// on the node's image (ImageCache::AddLayer), so that a trainer's prepared sandbox can be
// handed out again like any image.

#include <filesystem>
#include <map>
#include <optional>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/parallel.h"
#include "common/status_macros.h"
#include "worker/sandbox/guest_pause.h"
#include "worker/sandbox/sandbox_manager.h"

namespace labrack::worker {
namespace fs = std::filesystem;

namespace {

constexpr char kCapturing[] = "capturing its disks";

// Every image of one capture carries this version, by which a retry finds them. Sandbox
// ids are UUIDs in practice; a longer one is cut to keep within the 64 characters allowed.
std::string CaptureVersion(const std::string& sandbox_id, uint64_t generation) {
  return absl::StrCat(sandbox_id.substr(0, 40), ".", generation);
}

struct NodeCapture {
  std::string node;
  std::string base;                       // the node's image
  std::string image;                      // <prefix>-<node>
  std::optional<v1::ImageManifest> made;  // by an earlier call of the same capture
};

// What to capture for each node of `topology`, refusing names other images hold.
absl::StatusOr<std::vector<NodeCapture>> PlanCaptures(const v1::Topology& topology,
                                                      const std::string& prefix,
                                                      const std::string& version,
                                                      const ImageCache& images) {
  std::vector<NodeCapture> out;
  for (const v1::Node& node : topology.nodes()) {
    NodeCapture c{node.name(), node.image(), absl::StrCat(prefix, "-", node.name()), {}};
    absl::Status name_ok = ValidateImageName("image_prefix", c.image);
    if (!name_ok.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_ok.message(), " (the image name of node ", node.name(), ")"));
    }
    if (absl::StatusOr<CachedImage> taken = images.Lookup(c.image); taken.ok()) {
      if (taken->manifest.version() != version) {
        return absl::AlreadyExistsError(
            absl::StrCat("image \"", c.image, "\" exists already (version ",
                         taken->manifest.version(), "); choose another image_prefix"));
      }
      c.made = taken->manifest;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::SandboxSpec> SandboxManager::CapturableSpec(Entry& entry, uint64_t generation) {
  Observe(entry);  // a build's last node may have turned ready since anyone looked
  absl::MutexLock lock(&entry.mu);
  const std::string& id = entry.spec.sandbox_id();
  if (entry.spec.generation() != generation) {
    return absl::AbortedError(absl::StrCat("sandbox ", id, " is at generation ",
                                           entry.spec.generation(), ", not ", generation));
  }
  if (entry.phase != v1::SANDBOX_PHASE_READY) {
    return absl::FailedPreconditionError(absl::StrCat("sandbox ", id, " is ",
                                                      v1::SandboxPhase_Name(entry.phase),
                                                      "; only a READY sandbox can be captured"));
  }
  return entry.spec;
}

absl::Status SandboxManager::CopyDisksPaused(const std::string& sandbox_id,
                                             const std::map<std::string, std::string>& copies) {
  ASSIGN_OR_RETURN(std::vector<DomainInfo> domains, hv_->ListDomains(config_.host_id));
  std::vector<std::string> names;
  for (const DomainInfo& d : domains) {
    if (d.tag.sandbox_id == sandbox_id) names.push_back(d.name);
  }
  // All of them, link emulators too, so that no node sees another change meanwhile.
  std::vector<char> paused(names.size(), 0);  // not vector<bool>: written in parallel
  absl::Status s = RunInParallel(names.size(), [&](int i) -> absl::Status {
    ASSIGN_OR_RETURN(bool p, PauseIfRunning(*hv_, names[i]));
    paused[i] = p;
    return absl::OkStatus();
  });
  const std::string pool_dir = ContextFor(sandbox_id).pool_dir;
  for (auto it = copies.begin(); s.ok() && it != copies.end(); ++it) {
    std::string from = absl::StrCat(pool_dir, "/", RootVolumeName(sandbox_id, it->first));
    std::error_code ec;
    fs::copy_file(from, it->second, fs::copy_options::overwrite_existing, ec);
    if (ec) s = absl::InternalError(absl::StrCat("copy ", from, ": ", ec.message()));
  }
  absl::Status resumed = RunInParallel(names.size(), [&](int i) {
    return paused[i] ? hv_->ResumeDomain(names[i]) : absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  if (!resumed.ok()) {
    return absl::Status(resumed.code(), absl::StrCat("disks copied, but a guest stays paused: ",
                                                     resumed.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ImageManifest>> SandboxManager::CaptureSandbox(
    const std::string& sandbox_id, uint64_t generation, const std::string& image_prefix) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", sandbox_id));
  std::shared_ptr<Entry> entry = Find(sandbox_id);
  if (!entry) return absl::NotFoundError(absl::StrCat("no sandbox ", sandbox_id, " on this host"));
  // No reset, freeze or destroy meanwhile.
  absl::MutexLock op(&entry->op_mu);
  if (Find(sandbox_id) != entry) {
    return absl::NotFoundError(absl::StrCat("no sandbox ", sandbox_id, " on this host"));
  }
  ASSIGN_OR_RETURN(v1::SandboxSpec spec, CapturableSpec(*entry, generation));
  const std::string version = CaptureVersion(sandbox_id, generation);
  ASSIGN_OR_RETURN(std::vector<NodeCapture> nodes,
                   PlanCaptures(spec.topology(), image_prefix, version, *images_));
  std::map<std::string, std::string> copies;  // node -> its copy, in the sandbox's folder
  for (const NodeCapture& c : nodes) {
    if (c.made) continue;
    copies[c.node] = absl::StrCat(SandboxDir(sandbox_id), "/capture-", c.node, ".qcow2");
  }
  absl::Cleanup cleanup = [&] {
    std::error_code ec;
    for (const auto& [node, path] : copies) fs::remove(path, ec);  // AddLayer took the rest
    absl::MutexLock lock(&entry->mu);
    if (entry->message == kCapturing) entry->message.clear();
  };
  if (!copies.empty()) {
    {
      absl::MutexLock lock(&entry->mu);
      entry->message = kCapturing;
    }
    RETURN_IF_ERROR(CopyDisksPaused(sandbox_id, copies));
  }
  std::vector<v1::ImageManifest> out;
  for (NodeCapture& c : nodes) {
    if (!c.made) {
      ASSIGN_OR_RETURN(c.made, images_->AddLayer(c.image, version, c.base, copies[c.node]));
    }
    out.push_back(*std::move(c.made));
  }
  return out;
}

}  // namespace labrack::worker
