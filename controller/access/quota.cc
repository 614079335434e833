#include "controller/access/quota.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace labrack::controller {

absl::Status CheckTrainerQuota(Store& store, const Caller& caller, uint64_t adding,
                               uint32_t quota) {
  if (caller.role != v1::ROLE_TRAINER || quota == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> live, store.ListSandboxes(SandboxFilter()));
  uint64_t owned = 0;
  for (const v1::Sandbox& s : live) {
    if (s.owner() == caller.name) ++owned;
  }
  if (owned + adding <= quota) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "trainer '", caller.name, "' owns ", owned, " live sandboxes; ", adding,
      " more would pass its quota of ", quota, " (--trainer-max-sandboxes)"));
}

}  // namespace labrack::controller
