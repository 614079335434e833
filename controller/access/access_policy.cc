#include "controller/access/access_policy.h"

namespace labrack::controller {
namespace {

constexpr uint32_t kAdmin = RoleBit(v1::ROLE_ADMIN);
constexpr uint32_t kOperator = RoleBit(v1::ROLE_OPERATOR);
constexpr uint32_t kTrainer = RoleBit(v1::ROLE_TRAINER);
constexpr uint32_t kCandidate = RoleBit(v1::ROLE_CANDIDATE);
constexpr uint32_t kStaff = kAdmin | kOperator | kTrainer;

}  // namespace

const std::vector<AccessRule>& AccessRules() {
  static const std::vector<AccessRule> rules = {
      {"LabController/RegisterHost", 0, Scope::kWorker, true},
      // Every few seconds from every host: refusals are recorded, successes are not.
      {"LabController/Heartbeat", 0, Scope::kWorker, false},
      {"LabController/ListHosts", kAdmin | kOperator, Scope::kGlobal, false},
      {"LabController/DrainHost", kAdmin | kOperator, Scope::kGlobal, true},
      {"LabController/ImportImage", kAdmin | kOperator, Scope::kGlobal, true},
      {"LabController/ListImages", kStaff, Scope::kGlobal, false},
      {"LabController/ApplyTopology", kAdmin | kTrainer, Scope::kGlobal, true},
      {"LabController/ValidateTopology", kStaff, Scope::kGlobal, false},
      {"LabController/GetTopology", kStaff, Scope::kGlobal, false},
      {"LabController/ListTopologies", kStaff, Scope::kGlobal, false},
      {"LabController/CreateSandbox", kAdmin | kTrainer, Scope::kGlobal, true},
      {"LabController/GetSandbox", kStaff | kCandidate, Scope::kSandbox, false},
      {"LabController/ListSandboxes", kStaff, Scope::kOwnList, false},
      {"LabController/ResetSandbox", kAdmin | kTrainer | kCandidate, Scope::kSandbox, true},
      {"LabController/DestroySandbox", kStaff, Scope::kSandbox, true},
      {"LabController/CaptureSandbox", kAdmin | kTrainer, Scope::kSandbox, true},
      {"LabController/CloneSandbox", kAdmin | kTrainer, Scope::kSandbox, true},
      {"LabController/WatchEvents", kStaff | kCandidate, Scope::kEvents, false},
      {"LabController/AttachConsole", kAdmin | kTrainer | kCandidate, Scope::kSandbox, true},
      {"LabController/CreateSession", kStaff, Scope::kGlobal, true},
      {"LabController/GetSession", kStaff, Scope::kSession, false},
      {"LabController/ListSessions", kStaff, Scope::kOwnList, false},
      {"LabController/EndSession", kStaff, Scope::kSession, true},
      {"LabController/WatchSession", kStaff, Scope::kSession, false},
      {"LabController/CreatePool", kAdmin | kTrainer, Scope::kGlobal, true},
      {"LabController/GetPool", kStaff, Scope::kGlobal, false},
      {"LabController/ListPools", kStaff, Scope::kGlobal, false},
      {"LabController/DeletePool", kAdmin | kTrainer, Scope::kGlobal, true},
      {"LabController/AssignFromPool", kAdmin | kTrainer, Scope::kGlobal, true},
      {"LabAccess/CreateToken", kAdmin, Scope::kGlobal, true},
      {"LabAccess/ListTokens", kAdmin, Scope::kGlobal, false},
      {"LabAccess/RevokeToken", kAdmin, Scope::kGlobal, true},
      {"LabAccess/ListAudit", kAdmin | kOperator, Scope::kGlobal, false},
  };
  return rules;
}

const AccessRule* FindAccessRule(absl::string_view method) {
  for (const AccessRule& rule : AccessRules()) {
    if (rule.method == method) return &rule;
  }
  return nullptr;
}

bool RoleAllowed(const AccessRule& rule, v1::Role role) {
  return role != v1::ROLE_UNSPECIFIED && (rule.roles & RoleBit(role)) != 0;
}

absl::string_view RoleName(v1::Role role) {
  switch (role) {
    case v1::ROLE_ADMIN: return "admin";
    case v1::ROLE_OPERATOR: return "operator";
    case v1::ROLE_TRAINER: return "trainer";
    case v1::ROLE_CANDIDATE: return "candidate";
    default: return "none";
  }
}

v1::Role RoleFromName(absl::string_view name) {
  for (v1::Role role : {v1::ROLE_ADMIN, v1::ROLE_OPERATOR, v1::ROLE_TRAINER, v1::ROLE_CANDIDATE}) {
    if (RoleName(role) == name) return role;
  }
  return v1::ROLE_UNSPECIFIED;
}

}  // namespace labrack::controller
