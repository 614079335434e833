// Authentication and authorization of controller calls, and the audit log. A call carries
// "authorization: Bearer <token>"; the token is looked up by its id, its secret compared
// by sha256, its expiry and revocation checked, and its role held against the call's rule
// (access_policy.h), including whose sandbox or session the call names. Every refusal and
// every audited call is appended to the store's audit log. Thread-safe.
#ifndef LABRACK_CONTROLLER_ACCESS_ACCESS_CONTROL_H_
#define LABRACK_CONTROLLER_ACCESS_ACCESS_CONTROL_H_

#include <functional>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "controller/access/access_policy.h"
#include "controller/store/store.h"
#include "labrack/v1/access.pb.h"

namespace labrack::controller {

// Who is calling: the token's holder, or a worker (RegisterHost, Heartbeat).
// The result of the audit record written before an audited call runs.
inline constexpr absl::string_view kAuditStarted = "STARTED";

struct Caller {
  // The token's name; "worker" for a worker's call.
  std::string name;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::string token_id;
  // A candidate's sandbox.
  std::string sandbox_id;
  // The client's address as gRPC gives it.
  std::string peer;
};

class AccessControl {
 public:
  explicit AccessControl(Store* store, std::function<absl::Time()> clock = [] { return absl::Now(); })
      : store_(store), clock_(std::move(clock)) {}

  // Admits a call of `method` on `target` (a sandbox id or a session, as the rule's scope
  // says; may be empty) from `peer` with the "authorization" metadata `authorization`
  // (nullopt when absent). Unauthenticated for a missing, malformed, unknown, expired or
  // revoked token; PermissionDenied naming the role and the rule otherwise; both recorded.
  absl::StatusOr<Caller> Admit(std::optional<absl::string_view> authorization,
                               absl::string_view method, const std::string& target,
                               std::string peer);
  // As Admit for a call whose object arrives later (a console's first message): the
  // token and the role only. AdmitTarget then checks the object.
  absl::StatusOr<Caller> AdmitRole(std::optional<absl::string_view> authorization,
                                   absl::string_view method, std::string peer);
  // Whether the caller AdmitRole admitted may use `target`; a refusal is recorded.
  absl::Status AdmitTarget(const Caller& caller, absl::string_view method,
                           const std::string& target);
  // Records that an admitted call starts (result "STARTED") when its rule is audited, so
  // that a controller stopped during the call still leaves who asked for what.
  void RecordStart(const Caller& caller, absl::string_view method, const std::string& target);
  // Records the result of an admitted call when its rule is audited.
  void Record(const Caller& caller, absl::string_view method, const std::string& target,
              const absl::Status& result);
  // Whether `caller` sees an object owned by `owner` in a list: trainers only their own.
  static bool Sees(const Caller& caller, const std::string& owner);

  // LabAccess. CreateToken: InvalidArgument naming the field and the rule; NotFound for
  // a candidate token's unknown sandbox.
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(const Caller& creator,
                                                      const v1::CreateTokenRequest& request);
  absl::StatusOr<std::vector<v1::Token>> ListTokens();
  absl::StatusOr<v1::Token> RevokeToken(const std::string& token_id);
  absl::StatusOr<std::vector<v1::AuditRecord>> ListAudit(const v1::ListAuditRequest& request);

  // On a store without tokens: makes an admin token named "admin" and writes its secret
  // to `path` (mode 0600, replacing a stale file). True when it made one.
  absl::StatusOr<bool> Bootstrap(const std::string& path);

 private:
  absl::StatusOr<Caller> Authenticate(std::optional<absl::string_view> authorization);
  absl::StatusOr<Caller> AdmitWith(std::optional<absl::string_view> authorization,
                                   absl::string_view method, const std::string* target,
                                   std::string peer);
  absl::Status Authorize(const Caller& caller, const AccessRule& rule, const std::string& target);
  absl::Status CheckSandbox(const Caller& caller, const std::string& sandbox_id);
  absl::Status CheckSession(const Caller& caller, const std::string& session);
  absl::StatusOr<v1::CreateTokenResponse> Issue(const v1::Token& token);
  void Append(const Caller& caller, absl::string_view method, const std::string& target,
              const absl::Status& result);
  void Append(const Caller& caller, absl::string_view method, const std::string& target,
              std::string result, absl::string_view message);

  Store* const store_;
  const std::function<absl::Time()> clock_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_ACCESS_ACCESS_CONTROL_H_
