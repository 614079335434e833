#include "controller/sessions/session_sandbox.h"

#include "common/proto_time.h"
#include "common/status_macros.h"
#include "common/uuid.h"
#include "controller/core/console_password.h"

namespace labrack::controller {

absl::StatusOr<v1::Sandbox> NewSessionSandbox(const v1::Session& session,
                                              const std::string& candidate,
                                              const v1::Topology& snapshot,
                                              const v1::Capacity& needs, bool provision_now,
                                              absl::Time now) {
  v1::Sandbox s;
  s.set_sandbox_id(NewUuid4());
  s.set_topology(session.topology());
  s.set_topology_version(session.topology_version());
  s.set_candidate(candidate);
  (*s.mutable_labels())["session"] = session.name();
  s.set_session_id(session.session_id());
  s.set_owner(session.owner());
  *s.mutable_image_overrides() = session.image_overrides();
  s.set_phase(provision_now ? v1::SANDBOX_PHASE_SCHEDULED : v1::SANDBOX_PHASE_PENDING);
  s.set_generation(1);
  s.set_message(provision_now ? "waiting for its host to build it"
                              : "capacity reserved; waiting for the session's provisioning");
  *s.mutable_reserved() = needs;
  *s.mutable_created_at() = ToTimestamp(now);
  *s.mutable_expires_at() = session.end_time();
  for (const v1::Node& node : snapshot.nodes()) s.add_nodes()->set_name(node.name());
  ASSIGN_OR_RETURN(ConsolePassword password, NewConsolePassword());
  s.set_console_password(password.password);
  s.set_console_password_hash(password.hash);
  return s;
}

}  // namespace labrack::controller
