// SandboxManager's part in choosing KVM or software emulation: the probe before the first
// build, and the move to emulation when a KVM guest fails to start.
#include "spdlog/spdlog.h"
#include "worker/sandbox/sandbox_manager.h"

namespace labrack::worker {

void SandboxManager::ProbeDomainTypeWith(const v1::SandboxSpec& spec) {
  for (const v1::Node& node : spec.topology().nodes()) {
    absl::StatusOr<CachedImage> image = images_->Lookup(node.image());
    if (!image.ok()) continue;
    std::optional<ProbeGuest> guest = ProbeGuestFor(*image);
    if (!guest.has_value()) continue;
    config_.domain_type->EnsureProbed(guest);
    return;
  }
}

bool SandboxManager::RetryWithoutKvm(const SandboxPlan& plan, const absl::Status& failure) {
  if (plan.nodes.empty() || plan.nodes.front().domain.type != DomainType::kKvm) return false;
  if (!PointsAtKvm(failure)) return false;
  const bool left = config_.domain_type->LeaveKvm(failure.message());
  if (!left && config_.domain_type->type() != DomainType::kQemu) return false;
  spdlog::warn("building again under software emulation after: {}", failure.ToString());
  return true;
}

}  // namespace labrack::worker
