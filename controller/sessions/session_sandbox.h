// The sandbox a session plans for one candidate: at its creation, and again when the
// candidate's sandbox FAILED and the session replaces it.
#ifndef LABRACK_CONTROLLER_SESSIONS_SESSION_SANDBOX_H_
#define LABRACK_CONTROLLER_SESSIONS_SESSION_SANDBOX_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

// A new sandbox of `session` for `candidate`, of `snapshot` (the session's topology with
// addresses assigned), reserving `needs`: SCHEDULED when `provision_now`, else PENDING,
// with a console password of its own and the session's end as its expiry.
absl::StatusOr<v1::Sandbox> NewSessionSandbox(const v1::Session& session,
                                              const std::string& candidate,
                                              const v1::Topology& snapshot,
                                              const v1::Capacity& needs, bool provision_now,
                                              absl::Time now);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_SESSIONS_SESSION_SANDBOX_H_
