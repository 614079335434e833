// SandboxManager::FreezeSandbox and the evidence of a frozen sandbox: which files it is
// (named by the plan, never by a request) and reading them in bounded pieces.

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/file_range.h"
#include "common/names.h"
#include "common/parallel.h"
#include "common/status_macros.h"
#include "worker/sandbox/guest_pause.h"
#include "worker/sandbox/sandbox_manager.h"

namespace labrack::worker {
namespace fs = std::filesystem;

namespace {

struct EvidenceSource {
  v1::EvidenceFile file;
  std::string path;
};

absl::Status AddDisk(const std::string& path, v1::EvidenceFile file,
                     std::vector<EvidenceSource>& out) {
  std::error_code ec;
  uint64_t size = fs::file_size(path, ec);
  if (ec)
    return absl::DataLossError(
        absl::StrCat("disk of ", file.name(), ": ", path, ": ", ec.message()));
  file.set_kind(v1::EVIDENCE_KIND_DISK);
  file.set_format("qcow2");
  file.set_size_bytes(size);
  out.push_back({std::move(file), path});
  return absl::OkStatus();
}

// Every evidence file of the topology's own nodes with its path on this host.
absl::StatusOr<std::vector<EvidenceSource>> EvidenceFiles(const v1::SandboxSpec& spec,
                                                          const PlanContext& ctx,
                                                          const ImageCache& images) {
  std::vector<EvidenceSource> out;
  for (const v1::Node& node : spec.topology().nodes()) {
    v1::EvidenceFile root;
    root.set_name(absl::StrCat("disks/", node.name(), ".qcow2"));
    root.set_node(node.name());
    root.set_base_image(node.image());
    // Unknown when the image has left the cache since; the overlay still names its base.
    if (absl::StatusOr<CachedImage> image = images.Lookup(node.image()); image.ok()) {
      for (const v1::ImageArtifact& a : image->manifest.artifacts()) {
        if (a.kind() == v1::ARTIFACT_KIND_DISK) root.set_base_image_sha256(a.sha256());
      }
    }
    RETURN_IF_ERROR(
        AddDisk(absl::StrCat(ctx.pool_dir, "/", RootVolumeName(spec.sandbox_id(), node.name())),
                std::move(root), out));
    for (const v1::Disk& disk : node.disks()) {
      v1::EvidenceFile blank;
      blank.set_name(absl::StrCat("disks/", node.name(), "-", disk.name(), ".qcow2"));
      blank.set_node(node.name());
      std::string path = absl::StrCat(ctx.pool_dir, "/",
                                      DiskVolumeName(spec.sandbox_id(), node.name(), disk.name()));
      RETURN_IF_ERROR(AddDisk(path, std::move(blank), out));
    }
    std::string log = SerialLogPath(ctx.sandbox_dir, node.name());
    std::error_code ec;
    uint64_t size = fs::file_size(log, ec);
    if (ec) continue;  // the guest never started
    v1::EvidenceFile serial;
    serial.set_name(absl::StrCat("serial/", node.name(), ".log"));
    serial.set_kind(v1::EVIDENCE_KIND_SERIAL_LOG);
    serial.set_node(node.name());
    serial.set_size_bytes(size);
    out.push_back({std::move(serial), log});
  }
  return out;
}


}  // namespace

absl::StatusOr<v1::SandboxStatus> SandboxManager::FreezeSandbox(const std::string& sandbox_id) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", sandbox_id));
  std::shared_ptr<Entry> entry = Find(sandbox_id);
  if (!entry) return absl::NotFoundError(absl::StrCat("no sandbox ", sandbox_id, " on this host"));
  // A create or reset still defining and starting domains finishes first: none starts after.
  absl::MutexLock op(&entry->op_mu);
  if (Find(sandbox_id) != entry) {  // destroyed, or its create failed, meanwhile
    return absl::NotFoundError(absl::StrCat("no sandbox ", sandbox_id, " on this host"));
  }
  {
    // Before pausing: a create still waiting for readiness must not take the paused guests
    // for failed ones.
    absl::MutexLock lock(&entry->mu);
    entry->phase = v1::SANDBOX_PHASE_FROZEN;
  }
  // Swept from libvirt by tag, as destroy does: hidden emulators and leftovers go too.
  ASSIGN_OR_RETURN(std::vector<DomainInfo> domains, hv_->ListDomains(config_.host_id));
  std::vector<std::string> names;
  for (const DomainInfo& d : domains) {
    if (d.tag.sandbox_id == sandbox_id) names.push_back(d.name);
  }
  // Pausing stops qemu's VM, which flushes its disks: the files are whole from then on.
  absl::Status s = RunInParallel(names.size(),
                                 [&](int i) { return PauseIfRunning(*hv_, names[i]).status(); });
  {
    absl::MutexLock lock(&entry->mu);
    entry->all_paused = s.ok();
    entry->message =
        s.ok() ? "" : absl::StrCat("not every guest is paused: ", s.message(), "; freeze it again");
  }
  RETURN_IF_ERROR(s);
  return Observe(*entry);
}

absl::StatusOr<v1::SandboxSpec> SandboxManager::FrozenSpec(const std::string& sandbox_id) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", sandbox_id));
  std::shared_ptr<Entry> entry = Find(sandbox_id);
  if (!entry) return absl::NotFoundError(absl::StrCat("no sandbox ", sandbox_id, " on this host"));
  absl::MutexLock lock(&entry->mu);
  if (entry->phase != v1::SANDBOX_PHASE_FROZEN || !entry->all_paused) {
    return absl::FailedPreconditionError(
        absl::StrCat("sandbox ", sandbox_id, " is ", v1::SandboxPhase_Name(entry->phase),
                     entry->phase == v1::SANDBOX_PHASE_FROZEN ? " with guests not yet paused" : "",
                     "; its evidence is ready once FreezeSandbox succeeded"));
  }
  return entry->spec;
}

absl::StatusOr<std::vector<v1::EvidenceFile>> SandboxManager::ListEvidence(
    const std::string& sandbox_id) {
  ASSIGN_OR_RETURN(v1::SandboxSpec spec, FrozenSpec(sandbox_id));
  ASSIGN_OR_RETURN(std::vector<EvidenceSource> sources,
                   EvidenceFiles(spec, ContextFor(sandbox_id), *images_));
  std::vector<v1::EvidenceFile> files;
  for (EvidenceSource& s : sources) files.push_back(std::move(s.file));
  return files;
}

absl::StatusOr<std::string> SandboxManager::ReadEvidence(const std::string& sandbox_id,
                                                         const std::string& name, uint64_t offset,
                                                         uint32_t max_bytes) {
  ASSIGN_OR_RETURN(v1::SandboxSpec spec, FrozenSpec(sandbox_id));
  ASSIGN_OR_RETURN(std::vector<EvidenceSource> sources,
                   EvidenceFiles(spec, ContextFor(sandbox_id), *images_));
  // Only names the plan made are read: a requested name is looked up, never made a path.
  auto it = std::find_if(sources.begin(), sources.end(),
                         [&](const EvidenceSource& s) { return s.file.name() == name; });
  if (it == sources.end()) {
    return absl::NotFoundError(
        absl::StrCat("sandbox ", sandbox_id, " has no evidence file \"", name, "\""));
  }
  uint64_t size = it->file.size_bytes();  // stat'ed just now
  if (offset >= size) return std::string();
  uint32_t max =
      max_bytes == 0 ? kMaxEvidenceReadBytes : std::min(max_bytes, kMaxEvidenceReadBytes);
  return ReadFileRange(it->path, offset, std::min<uint64_t>(max, size - offset));
}

}  // namespace labrack::worker
