#include "controller/core/sandbox_transition.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace labrack::controller {

absl::StatusOr<v1::Sandbox> TransitionSandbox(Store& store, const std::string& sandbox_id,
                                              std::initializer_list<v1::SandboxPhase> from,
                                              uint64_t generation,
                                              const std::function<void(v1::Sandbox&)>& change) {
  std::vector<v1::SandboxPhase> phases(from);
  return store.UpdateSandbox(sandbox_id, [&](v1::Sandbox& s) {
    if (std::find(phases.begin(), phases.end(), s.phase()) == phases.end() ||
        s.generation() != generation) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sandbox ", sandbox_id, " moved on to ", v1::SandboxPhase_Name(s.phase()),
          " at generation ", s.generation(), "; this step is superseded"));
    }
    change(s);
    return absl::OkStatus();
  });
}

}  // namespace labrack::controller
