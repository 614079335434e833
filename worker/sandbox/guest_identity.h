// Gives a running guest its sandbox's identity through its guest agent (the QEMU guest
// agent protocol): the host's clock, fresh entropy, and root's password hash when the
// sandbox has one. A guest restored from a template holds the template's clock and random
// state and no password until it gets them; so does a booted node of an image with an
// agent, whose command line carries nothing of its sandbox (sandbox_plan.h).
#ifndef LABRACK_WORKER_SANDBOX_GUEST_IDENTITY_H_
#define LABRACK_WORKER_SANDBOX_GUEST_IDENTITY_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "worker/hypervisor/hypervisor.h"

namespace labrack::worker {

struct GuestIdentity {
  // crypt(3) hash of the console password; empty: root's password is left as it is.
  std::string password_hash;
};

// Bytes of entropy given to every guest.
inline constexpr int kIdentityEntropyBytes = 64;

// Sets the guest's clock to now() (read just before the command is sent), adds
// kIdentityEntropyBytes of the host's random bytes to its kernel's pool, and sets root's
// password. Waits up to `timeout` for an agent that is not connected yet (one still
// opening its port); the error of the first command that fails otherwise, naming it.
absl::Status GiveIdentity(Hypervisor* hv, const std::string& domain, const GuestIdentity& identity,
                          const std::function<absl::Time()>& now, absl::Duration timeout);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SANDBOX_GUEST_IDENTITY_H_
