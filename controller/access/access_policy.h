// Who may make which call: one rule per rpc of LabController and LabAccess, naming the
// roles allowed and what a call's object must be for the narrower roles (a candidate's
// own sandbox, a trainer's own sandboxes and sessions). The single source of the role
// table in docs/security.md and of the role-by-call test.
#ifndef LABRACK_CONTROLLER_ACCESS_ACCESS_POLICY_H_
#define LABRACK_CONTROLLER_ACCESS_ACCESS_POLICY_H_

#include <cstdint>
#include "absl/strings/string_view.h"
#include <vector>

#include "labrack/v1/access.pb.h"

namespace labrack::controller {

enum class Scope {
  // No object to check: the role decides.
  kGlobal,
  // The request names a sandbox: a candidate only the one of its token, a trainer only
  // those it owns.
  kSandbox,
  // The request names a session (id or name): a trainer only those it owns.
  kSession,
  // A list: a trainer gets only what it owns (the handler filters).
  kOwnList,
  // The event feed: one sandbox's (as kSandbox), or every event (admin and operator only).
  kEvents,
  // RegisterHost and Heartbeat: the worker's certificate, not a token (see host_handlers.cc).
  kWorker,
};

struct AccessRule {
  // "<service>/<rpc>", e.g. "LabController/ResetSandbox".
  absl::string_view method;
  // Bits 1 << Role.
  uint32_t roles;
  Scope scope;
  // Recorded in the audit log when allowed (every refusal is recorded).
  bool audited;
};

constexpr uint32_t RoleBit(v1::Role role) { return 1u << static_cast<int>(role); }

// Every rule, in the order of the services' rpcs.
const std::vector<AccessRule>& AccessRules();
// nullptr for a method without a rule (which is therefore refused).
const AccessRule* FindAccessRule(absl::string_view method);
bool RoleAllowed(const AccessRule& rule, v1::Role role);
// "admin", "operator", "trainer", "candidate" ("none" otherwise).
absl::string_view RoleName(v1::Role role);
// The role of a name RoleName gives; ROLE_UNSPECIFIED for anything else.
v1::Role RoleFromName(absl::string_view name);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_ACCESS_ACCESS_POLICY_H_
