// The session calls of the public API. Create validates the request, then writes the
// session and one sandbox per candidate in one store transaction that places every sandbox
// on a host (all fit, or nothing is written); the session driver does the rest over time.
// Thread-safe.
#ifndef LABRACK_CONTROLLER_SESSIONS_SESSION_API_H_
#define LABRACK_CONTROLLER_SESSIONS_SESSION_API_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/core/controller_config.h"
#include "controller/core/topology_catalog.h"
#include "controller/store/store.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

inline constexpr int kMaxSessionCandidates = 500;

class SessionApi {
 public:
  // `wake` is called after every accepted change.
  SessionApi(Store* store, TopologyCatalog* topologies, const ControllerConfig* config,
             std::function<void()> wake)
      : store_(store), topologies_(topologies), config_(config), wake_(std::move(wake)) {}

  // WAITING, or PROVISIONING when start_time - lead has passed. InvalidArgument naming the
  // field for a bad name, candidate, duration or lead; NotFound for an unknown topology;
  // FailedPrecondition for an image never imported; AlreadyExists when a session of that
  // name has not ended; ResourceExhausted with the capacity needed and free when the hosts
  // cannot hold every candidate's sandbox. A request_id that made a session: that session.
  // `owner`: the caller's token name, the session's and its sandboxes' owner.
  absl::StatusOr<v1::Session> Create(const v1::CreateSessionRequest& request,
                                     const std::string& owner = "");
  // By id or name, with live status (session_status.h). NotFound when unknown.
  absl::StatusOr<v1::Session> Get(const std::string& session);
  // Counts only, no per-candidate details.
  absl::StatusOr<std::vector<v1::Session>> List(const v1::ListSessionsRequest& request);
  // ENDING (ENDING and ENDED stay as they are).
  absl::StatusOr<v1::Session> End(const std::string& session);
  // The stored record, by id or name.
  absl::StatusOr<v1::Session> Find(const std::string& session);

 private:
  Store* const store_;
  TopologyCatalog* const topologies_;
  const ControllerConfig* const config_;
  const std::function<void()> wake_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_SESSIONS_SESSION_API_H_
