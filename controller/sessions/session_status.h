// A session as clients see it: the stored record with each candidate's sandbox as the store
// has it now (phase, message, nodes ready) and the resets its event history records, and
// the ready and failed counts. Thread-safe (the store is).
#ifndef LABRACK_CONTROLLER_SESSIONS_SESSION_STATUS_H_
#define LABRACK_CONTROLLER_SESSIONS_SESSION_STATUS_H_

#include "absl/status/statusor.h"
#include "controller/store/store.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

// `with_resets`: also read every sandbox's events for its resets (one query per candidate).
absl::StatusOr<v1::Session> WithLiveStatus(Store& store, v1::Session session, bool with_resets);

// The resets in a sandbox's event history, oldest first.
std::vector<v1::SessionReset> ResetsIn(const std::vector<v1::Event>& events);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_SESSIONS_SESSION_STATUS_H_
