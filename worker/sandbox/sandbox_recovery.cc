// SandboxManager::Recover: rebuilds the worker's list of sandboxes from the metadata on the
// libvirt objects it owns (and the state of their domains), so that a restarted worker
// knows every sandbox it had; AdoptStrays runs it again now and then for objects that
// appear while the worker runs.

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"
#include "worker/sandbox/sandbox_manager.h"

namespace labrack::worker {

namespace fs = std::filesystem;

absl::Status SandboxManager::Recover() {
  ASSIGN_OR_RETURN(std::vector<DomainInfo> domains, hv_->ListDomains(config_.host_id));
  ASSIGN_OR_RETURN(std::vector<NetworkInfo> networks, hv_->ListNetworks(config_.host_id));
  std::map<std::string, std::vector<ObjectTag>> domain_tags;
  std::set<std::string> ids;
  // Sandboxes with a paused domain, and with a running one.
  std::set<std::string> paused, running;
  for (const DomainInfo& d : domains) {
    domain_tags[d.tag.sandbox_id].push_back(d.tag);
    ids.insert(d.tag.sandbox_id);
    if (d.state == DomainState::kPaused) paused.insert(d.tag.sandbox_id);
    if (d.state == DomainState::kRunning || d.state == DomainState::kStarting) {
      running.insert(d.tag.sandbox_id);
    }
  }
  for (const NetworkInfo& n : networks) ids.insert(n.tag.sandbox_id);

  absl::MutexLock lock(&mu_);
  for (const std::string& id : ids) {
    if (entries_.contains(id)) continue;
    auto entry = std::make_shared<Entry>();
    absl::MutexLock entry_lock(&entry->mu);
    entry->started = absl::Now();
    entry->spec.set_sandbox_id(id);
    const std::vector<ObjectTag>& tags = domain_tags[id];
    if (tags.empty()) {
      entry->phase = v1::SANDBOX_PHASE_FAILED;
      entry->message = "incomplete: networks without domains (a create was interrupted); destroy it";
    } else if (!google::protobuf::util::JsonStringToMessage(tags.front().spec_json, &entry->spec).ok() ||
               entry->spec.sandbox_id() != id) {
      entry->spec.Clear();
      entry->spec.set_sandbox_id(id);
      entry->phase = v1::SANDBOX_PHASE_FAILED;
      entry->message = "unreadable spec in the domain metadata; destroy it";
    }
    uint64_t lowest = UINT64_MAX, highest = 0;
    for (const ObjectTag& t : tags) {
      lowest = std::min(lowest, t.generation);
      highest = std::max(highest, t.generation);
    }
    // After an interrupted reset the sandbox stays at the lower generation, so that the
    // controller's retry of that same reset goes through.
    if (!tags.empty()) entry->spec.set_generation(lowest);
    if (!tags.empty() && lowest != highest && entry->phase != v1::SANDBOX_PHASE_FAILED) {
      entry->phase = v1::SANDBOX_PHASE_FAILED;
      entry->message = absl::StrCat("nodes at generations ", lowest, " to ", highest,
                                    " (a reset was interrupted); reset or destroy it");
    }
    // Only a freeze pauses guests, and it leaves none running (guests that powered off stay
    // off): such a sandbox is frozen still. A freeze cut short comes back unfrozen, its
    // paused nodes STOPPED, until the controller's retry of the freeze completes it.
    if (paused.contains(id) && !running.contains(id) && entry->phase != v1::SANDBOX_PHASE_FAILED) {
      entry->phase = v1::SANDBOX_PHASE_FROZEN;
      entry->all_paused = true;
    }
    SetMarkers(*entry, entry->spec);
    entries_[id] = entry;
  }
  return absl::OkStatus();
}

void SandboxManager::AdoptStrays() {
  {
    absl::MutexLock lock(&adopt_mu_);
    if (absl::Now() < last_adopt_ + config_.adopt_interval) return;
    last_adopt_ = absl::Now();
  }
  if (absl::Status s = Recover(); !s.ok()) {
    spdlog::warn("looking for objects of this host that the worker does not know: {}", s.ToString());
    return;
  }
  RemoveStrayFolders();
  RemoveStrayBridges();
  RemoveStrayPortFilters();
  RemoveStaleTemplates();
}

// A template of an image the cache no longer holds at that version (it was imported again
// as another version) would never be restored again: it goes now rather than at eviction.
void SandboxManager::RemoveStaleTemplates() {
  if (templates_ == nullptr) return;
  int removed = templates_->store()->RemoveIf([&](const v1::NodeTemplate& t) {
    for (const std::string& image : t.images()) {
      const size_t at = image.rfind('@');
      absl::StatusOr<CachedImage> now = images_->Lookup(image.substr(0, at));
      if (at == std::string::npos || !now.ok() || now->manifest.version() != image.substr(at + 1)) {
        return true;
      }
    }
    return false;
  });
  if (removed > 0) spdlog::info("templates: removed {} of images no longer held", removed);
}

// A folder under sandboxes/ whose sandbox has no libvirt object left (so Recover did not
// list it) is what a worker killed during a destroy or a failed build leaves. A folder
// changed in the last minute may belong to a build that just began: it waits.
void SandboxManager::RemoveStrayFolders() {
  std::error_code ec;
  const absl::Time recent = absl::Now() - absl::Minutes(1);
  for (const auto& e : fs::directory_iterator(absl::StrCat(config_.state_dir, "/sandboxes"), ec)) {
    const std::string id = e.path().filename().string();
    {
      absl::MutexLock lock(&mu_);
      if (entries_.contains(id)) continue;
    }
    std::error_code time_ec;
    const auto written = fs::last_write_time(e.path(), time_ec);
    if (time_ec || absl::FromChrono(std::chrono::file_clock::to_sys(written)) > recent) continue;
    std::error_code rm_ec;
    fs::remove_all(e.path(), rm_ec);
    if (rm_ec) {
      spdlog::warn("remove stray folder {}: {}", e.path().string(), rm_ec.message());
    } else {
      spdlog::info("removed {}: no sandbox of this host has it", e.path().string());
    }
  }
}

// A bridge that no network uses, of a sandbox the controller no longer asks about. It goes
// when the pass before saw it too, so that no network still being made or removed (by
// this worker or another on the host) can be caught between its steps.
void SandboxManager::RemoveStrayBridges() {
  absl::StatusOr<std::vector<std::string>> unbacked = hv_->ListUnbackedBridges();
  if (!unbacked.ok()) {
    spdlog::warn("looking for bridges without a network: {}", unbacked.status().ToString());
    return;
  }
  std::set<std::string> seen_before, seen_now;
  {
    absl::MutexLock lock(&adopt_mu_);
    seen_before.swap(unbacked_bridges_);
  }
  for (const std::string& bridge : *unbacked) {
    if (!seen_before.contains(bridge)) {
      seen_now.insert(bridge);
    } else if (absl::Status s = hv_->RemoveBridge(bridge); !s.ok()) {
      spdlog::warn("remove stray bridge {}: {}", bridge, s.ToString());
      seen_now.insert(bridge);  // tried again next pass
    } else {
      spdlog::info("removed bridge {}: no network uses it", bridge);
    }
  }
  absl::MutexLock lock(&adopt_mu_);
  unbacked_bridges_ = std::move(seen_now);
}

// A port filter stamped with this host whose sandbox the worker does not know (Recover
// just listed every sandbox with a domain or network here): a worker killed during a
// destroy or a failed build leaves it. The check and the removal happen under mu_: a
// sandbox is admitted (under mu_) before its build writes its filter and forgotten only
// after its destroy removed it, so no filter of a live build can be taken.
void SandboxManager::RemoveStrayPortFilters() {
  absl::StatusOr<std::vector<PortFilterInfo>> filters = hv_->ListPortFilters();
  if (!filters.ok()) {
    spdlog::warn("looking for port filters of unknown sandboxes: {}", filters.status().ToString());
    return;
  }
  for (const PortFilterInfo& f : *filters) {
    if (f.host_id != config_.host_id) continue;  // another worker's on a shared host
    absl::MutexLock lock(&mu_);
    const bool known = std::any_of(entries_.begin(), entries_.end(),
                                   [&](const auto& e) { return Sandbox8(e.first) == f.sandbox8; });
    if (known) continue;
    if (absl::Status s = hv_->RemovePortFilter(f.sandbox_id); !s.ok()) {
      spdlog::warn("remove stray port filter of sandbox {}: {}", f.sandbox_id, s.ToString());
    } else {
      spdlog::info("removed the port filter of sandbox {}: the worker does not know it", f.sandbox_id);
    }
  }
}

absl::Status SandboxManager::TakePool() {
  const std::string dir = ContextFor("").pool_dir;
  absl::Status ensured = hv_->EnsurePool(pool_name(), dir);
  if (!absl::IsFailedPrecondition(ensured)) return ensured;
  // The pool names another folder: a worker of this host id ran with another state folder.
  // No live worker holds the id (the worker's host id lock says so), so what that one left
  // decides: its sandboxes belong to its own controller and are not this one's to remove.
  ASSIGN_OR_RETURN(std::vector<DomainInfo> domains, hv_->ListDomains(config_.host_id));
  ASSIGN_OR_RETURN(std::vector<NetworkInfo> networks, hv_->ListNetworks(config_.host_id));
  if (!domains.empty() || !networks.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        ensured.message(), ": a stopped worker of host id ", config_.host_id,
        " left ", domains.size(), " domain(s) and ", networks.size(),
        " network(s) in libvirt; start that worker again (its state folder) to keep them, "
        "or give this one another --host-id"));
  }
  spdlog::warn("{}: taking the pool over (nothing of the stopped worker is left)",
               std::string(ensured.message()));
  RETURN_IF_ERROR(hv_->RemovePool(pool_name()));
  return hv_->EnsurePool(pool_name(), dir);
}

}  // namespace labrack::worker
