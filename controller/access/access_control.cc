#include "controller/access/access_control.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/names.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "controller/access/token_secret.h"

namespace labrack::controller {
namespace {

constexpr uint32_t kMaxTokenTtlSeconds = 366 * 24 * 3600;
constexpr uint32_t kMaxAuditRecords = 1000;
constexpr absl::string_view kBearer = "Bearer ";

std::string Who(const Caller& caller) {
  if (caller.role == v1::ROLE_UNSPECIFIED) return caller.name;
  return absl::StrCat(RoleName(caller.role), " token '", caller.name, "'");
}

absl::Status Denied(const Caller& caller, absl::string_view method, absl::string_view why) {
  return absl::PermissionDeniedError(absl::StrCat(Who(caller), " may not call ", method, why));
}

std::string FormatTime(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", ToTime(t), absl::UTCTimeZone());
}

absl::Status WriteSecretFile(const std::string& path, const std::string& secret) {
  const std::string tmp = path + ".tmp";
  std::filesystem::remove(tmp);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("write ", tmp, ": ", std::strerror(errno)));
  }
  const std::string line = secret + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::filesystem::remove(tmp);
    return absl::InternalError(absl::StrCat("write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Caller> AccessControl::Admit(std::optional<absl::string_view> authorization,
                                            absl::string_view method, const std::string& target,
                                            std::string peer) {
  return AdmitWith(authorization, method, &target, std::move(peer));
}

absl::StatusOr<Caller> AccessControl::AdmitRole(std::optional<absl::string_view> authorization,
                                                absl::string_view method, std::string peer) {
  return AdmitWith(authorization, method, nullptr, std::move(peer));
}

// `target` nullptr: the role only.
absl::StatusOr<Caller> AccessControl::AdmitWith(std::optional<absl::string_view> authorization,
                                                absl::string_view method,
                                                const std::string* target, std::string peer) {
  Caller caller;
  caller.peer = std::move(peer);
  const AccessRule* rule = FindAccessRule(method);
  absl::Status status;
  if (rule != nullptr && rule->scope == Scope::kWorker) {
    caller.name = "worker";  // its certificate is checked by the host handlers
    return caller;
  }
  absl::StatusOr<Caller> authenticated = Authenticate(authorization);
  if (!authenticated.ok()) {
    caller.name = "anonymous";
    status = authenticated.status();
  } else {
    authenticated->peer = caller.peer;
    caller = *std::move(authenticated);
    if (rule == nullptr) {
      status = Denied(caller, method, ": no rule allows it");
    } else if (target == nullptr) {
      if (!RoleAllowed(*rule, caller.role)) status = Denied(caller, method, "");
    } else {
      status = Authorize(caller, *rule, *target);
    }
  }
  if (status.ok()) return caller;
  Append(caller, method, target == nullptr ? "" : *target, status);
  return status;
}

absl::Status AccessControl::AdmitTarget(const Caller& caller, absl::string_view method,
                                        const std::string& target) {
  const AccessRule* rule = FindAccessRule(method);
  absl::Status status = rule == nullptr ? Denied(caller, method, ": no rule allows it")
                                        : Authorize(caller, *rule, target);
  if (!status.ok()) Append(caller, method, target, status);
  return status;
}

void AccessControl::RecordStart(const Caller& caller, absl::string_view method,
                                const std::string& target) {
  const AccessRule* rule = FindAccessRule(method);
  if (rule != nullptr && rule->audited) Append(caller, method, target, std::string(kAuditStarted), "");
}

void AccessControl::Record(const Caller& caller, absl::string_view method,
                           const std::string& target, const absl::Status& result) {
  const AccessRule* rule = FindAccessRule(method);
  if (rule != nullptr && rule->audited) Append(caller, method, target, result);
}

bool AccessControl::Sees(const Caller& caller, const std::string& owner) {
  return caller.role != v1::ROLE_TRAINER || owner == caller.name;
}

absl::StatusOr<Caller> AccessControl::Authenticate(std::optional<absl::string_view> authorization) {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "this call needs a token: send the metadata 'authorization: Bearer <token>' (the "
        "first admin token is in <state-dir>/admin.token on the controller's host)");
  }
  if (!absl::StartsWith(*authorization, kBearer)) {
    return absl::UnauthenticatedError("authorization: must be 'Bearer <token>'");
  }
  const absl::string_view text = authorization->substr(kBearer.size());
  ASSIGN_OR_RETURN(std::string token_id, TokenIdOf(text));
  absl::StatusOr<StoredToken> stored = store_->GetToken(token_id);
  if (absl::IsNotFound(stored.status()) ||
      (stored.ok() && !ConstantTimeEquals(stored->secret_sha256, SecretSha256(text)))) {
    return absl::UnauthenticatedError(absl::StrCat("token ", token_id, " is not valid"));
  }
  RETURN_IF_ERROR(stored.status());
  const v1::Token& token = stored->token;
  if (token.has_revoked_at()) {
    return absl::UnauthenticatedError(absl::StrCat("token ", token_id, " ('", token.name(),
                                                   "') was revoked at ", FormatTime(token.revoked_at())));
  }
  if (token.has_expires_at() && ToTime(token.expires_at()) <= clock_()) {
    return absl::UnauthenticatedError(absl::StrCat("token ", token_id, " ('", token.name(),
                                                   "') expired at ", FormatTime(token.expires_at())));
  }
  Caller caller;
  caller.name = token.name();
  caller.role = token.role();
  caller.token_id = token.token_id();
  caller.sandbox_id = token.sandbox_id();
  return caller;
}

absl::Status AccessControl::Authorize(const Caller& caller, const AccessRule& rule,
                                      const std::string& target) {
  if (!RoleAllowed(rule, caller.role)) return Denied(caller, rule.method, "");
  switch (rule.scope) {
    case Scope::kGlobal:
    case Scope::kOwnList:
    case Scope::kWorker:
      return absl::OkStatus();
    case Scope::kSandbox:
      return CheckSandbox(caller, target);
    case Scope::kSession:
      return CheckSession(caller, target);
    case Scope::kEvents:
      if (!target.empty()) return CheckSandbox(caller, target);
      if (caller.role == v1::ROLE_ADMIN || caller.role == v1::ROLE_OPERATOR) return absl::OkStatus();
      return Denied(caller, rule.method, " without naming one of its sandboxes");
  }
  return absl::OkStatus();
}

absl::Status AccessControl::CheckSandbox(const Caller& caller, const std::string& sandbox_id) {
  static constexpr absl::string_view kWhat = "sandbox";
  // A malformed id is the same mistake for every role (and names no one's sandbox).
  if (!sandbox_id.empty()) RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", sandbox_id));
  switch (caller.role) {
    case v1::ROLE_ADMIN:
    case v1::ROLE_OPERATOR:
      return absl::OkStatus();
    case v1::ROLE_CANDIDATE:
      if (sandbox_id == caller.sandbox_id) return absl::OkStatus();
      return absl::PermissionDeniedError(absl::StrCat(
          Who(caller), " is for sandbox ", caller.sandbox_id, " only, not ",
          sandbox_id.empty() ? std::string("every ") + std::string(kWhat) : sandbox_id));
    case v1::ROLE_TRAINER: {
      absl::StatusOr<v1::Sandbox> sandbox = store_->GetSandbox(sandbox_id);
      if (sandbox.ok() && sandbox->owner() == caller.name) return absl::OkStatus();
      if (!sandbox.ok() && !absl::IsNotFound(sandbox.status())) return sandbox.status();
      return absl::PermissionDeniedError(
          absl::StrCat(Who(caller), " may only use its own sandboxes; ", sandbox_id, " is not one"));
    }
    default:
      return absl::PermissionDeniedError("no role");
  }
}

absl::Status AccessControl::CheckSession(const Caller& caller, const std::string& session) {
  if (caller.role != v1::ROLE_TRAINER) return absl::OkStatus();
  const bool is_id = session.size() == 36 && ValidateSandboxId("session", session).ok();
  if (!is_id && !ValidateSessionName("session", session).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("session: '", session, "' is neither a session id nor a session name"));
  }
  absl::StatusOr<v1::Session> found = absl::NotFoundError("");
  if (session.size() == 36) found = store_->GetSession(session);
  if (absl::IsNotFound(found.status())) found = store_->GetSessionByName(session);
  if (found.ok() && found->owner() == caller.name) return absl::OkStatus();
  if (!found.ok() && !absl::IsNotFound(found.status()) &&
      !absl::IsInvalidArgument(found.status())) {
    return found.status();
  }
  return absl::PermissionDeniedError(
      absl::StrCat(Who(caller), " may only use its own sessions; '", session, "' is not one"));
}

void AccessControl::Append(const Caller& caller, absl::string_view method,
                           const std::string& target, const absl::Status& result) {
  Append(caller, method, target, absl::StatusCodeToString(result.code()), result.message());
}

void AccessControl::Append(const Caller& caller, absl::string_view method,
                           const std::string& target, std::string result,
                           absl::string_view message) {
  v1::AuditRecord record;
  record.set_principal(caller.name);
  record.set_role(caller.role);
  record.set_token_id(caller.token_id);
  record.set_method(std::string(method));
  record.set_target(target.size() > 200 ? target.substr(0, 200) : target);
  record.set_result(std::move(result));
  record.set_message(std::string(message.substr(0, 500)));
  record.set_peer(caller.peer);
  absl::StatusOr<uint64_t> seq = store_->AppendAudit(record);
  if (!seq.ok()) {
    std::fprintf(stderr, "labrack-controller: could not record %s by %s in the audit log: %s\n",
                 record.method().c_str(), record.principal().c_str(),
                 seq.status().ToString().c_str());
  }
}

absl::StatusOr<v1::CreateTokenResponse> AccessControl::CreateToken(
    const Caller& creator, const v1::CreateTokenRequest& request) {
  RETURN_IF_ERROR(ValidateCandidateId("name", request.name()));
  if (request.role() != v1::ROLE_ADMIN && request.role() != v1::ROLE_OPERATOR &&
      request.role() != v1::ROLE_TRAINER && request.role() != v1::ROLE_CANDIDATE) {
    return absl::InvalidArgumentError("role: must be admin, operator, trainer or candidate");
  }
  if (request.role() == v1::ROLE_CANDIDATE) {
    RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", request.sandbox_id()));
    absl::StatusOr<v1::Sandbox> sandbox = store_->GetSandbox(request.sandbox_id());
    if (absl::IsNotFound(sandbox.status())) {
      return absl::NotFoundError(absl::StrCat("sandbox_id: no sandbox ", request.sandbox_id()));
    }
    RETURN_IF_ERROR(sandbox.status());
  } else if (!request.sandbox_id().empty()) {
    return absl::InvalidArgumentError("sandbox_id: only a candidate token is for one sandbox");
  }
  if (request.ttl_seconds() > kMaxTokenTtlSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("ttl_seconds: at most ", kMaxTokenTtlSeconds, " (366 days); 0 for no expiry"));
  }
  v1::Token token;
  token.set_name(request.name());
  token.set_role(request.role());
  token.set_sandbox_id(request.sandbox_id());
  token.set_created_by(creator.name);
  const absl::Time now = clock_();
  *token.mutable_created_at() = ToTimestamp(now);
  if (request.ttl_seconds() > 0) {
    *token.mutable_expires_at() = ToTimestamp(now + absl::Seconds(request.ttl_seconds()));
  }
  return Issue(token);
}

absl::StatusOr<v1::CreateTokenResponse> AccessControl::Issue(const v1::Token& token) {
  ASSIGN_OR_RETURN(TokenSecret secret, NewTokenSecret());
  StoredToken stored{token, SecretSha256(secret.text)};
  stored.token.set_token_id(secret.token_id);
  RETURN_IF_ERROR(store_->CreateToken(stored));
  v1::CreateTokenResponse response;
  *response.mutable_token() = stored.token;
  response.set_secret(secret.text);
  return response;
}

absl::StatusOr<std::vector<v1::Token>> AccessControl::ListTokens() { return store_->ListTokens(); }

absl::StatusOr<v1::Token> AccessControl::RevokeToken(const std::string& token_id) {
  if (token_id.size() != 16 || !TokenIdOf(token_id + "." + std::string(64, '0')).ok()) {
    return absl::InvalidArgumentError("token_id: must be 16 lowercase hex digits");
  }
  return store_->RevokeToken(token_id, clock_());
}

absl::StatusOr<std::vector<v1::AuditRecord>> AccessControl::ListAudit(
    const v1::ListAuditRequest& request) {
  uint32_t limit = request.limit() == 0 ? kMaxAuditRecords : request.limit();
  if (limit > kMaxAuditRecords) {
    return absl::InvalidArgumentError(absl::StrCat("limit: at most ", kMaxAuditRecords));
  }
  absl::Time since = request.has_since() ? ToTime(request.since()) : absl::InfinitePast();
  return store_->ListAudit(request.after_seq(), since, limit);
}

absl::StatusOr<bool> AccessControl::Bootstrap(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<v1::Token> tokens, store_->ListTokens());
  if (!tokens.empty()) return false;
  v1::Token token;
  token.set_name("admin");
  token.set_role(v1::ROLE_ADMIN);
  token.set_created_by("bootstrap");
  *token.mutable_created_at() = ToTimestamp(clock_());
  // The file first: a crash between the two leaves a file whose token the store lacks,
  // which the next start replaces, never a stored admin token nobody holds.
  ASSIGN_OR_RETURN(TokenSecret secret, NewTokenSecret());
  RETURN_IF_ERROR(WriteSecretFile(path, secret.text));
  token.set_token_id(secret.token_id);
  RETURN_IF_ERROR(store_->CreateToken(StoredToken{token, SecretSha256(secret.text)}));
  return true;
}

}  // namespace labrack::controller
