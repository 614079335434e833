#include "worker/sandbox/guest_pause.h"

#include "common/status_macros.h"

namespace labrack::worker {
namespace {

bool Runs(DomainState state) {
  return state == DomainState::kRunning || state == DomainState::kStarting;
}

}  // namespace

absl::StatusOr<bool> PauseIfRunning(Hypervisor& hv, const std::string& name) {
  absl::StatusOr<DomainInfo> info = hv.GetDomain(name);
  if (absl::IsNotFound(info.status())) return false;
  RETURN_IF_ERROR(info.status());
  if (!Runs(info->state)) return false;
  absl::Status s = hv.SuspendDomain(name);
  if (s.ok()) return true;
  // The guest may have powered off in between.
  info = hv.GetDomain(name);
  if (absl::IsNotFound(info.status()) || (info.ok() && !Runs(info->state))) return false;
  return s;
}

}  // namespace labrack::worker
