// SandboxManager::Recover: rebuilds the worker's list of sandboxes from the metadata on the
// libvirt objects it owns (and the state of their domains), so that a restarted worker
// knows every sandbox it had.

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "worker/sandbox/sandbox_manager.h"

namespace labrack::worker {

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

}  // namespace labrack::worker
