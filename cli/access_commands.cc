// Token and audit commands. `token create` prints the secret once: the controller keeps
// only its hash. `audit list --since` takes an RFC 3339 time or a duration back from now.
#include "cli/access_commands.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "common/proto_time.h"
#include "common/status_macros.h"

namespace labrack::cli {
namespace {

v1::Role RoleOf(const std::string& word) {
  if (word == "admin") return v1::ROLE_ADMIN;
  if (word == "operator") return v1::ROLE_OPERATOR;
  if (word == "trainer") return v1::ROLE_TRAINER;
  if (word == "candidate") return v1::ROLE_CANDIDATE;
  return v1::ROLE_UNSPECIFIED;
}

std::string RoleWord(v1::Role role) {
  switch (role) {
    case v1::ROLE_ADMIN: return "admin";
    case v1::ROLE_OPERATOR: return "operator";
    case v1::ROLE_TRAINER: return "trainer";
    case v1::ROLE_CANDIDATE: return "candidate";
    default: return "-";
  }
}

std::string TokenState(const v1::Token& t, absl::Time now) {
  if (t.has_revoked_at()) return "revoked";
  if (t.has_expires_at() && ToTime(t.expires_at()) <= now) return "expired";
  return "active";
}

struct CreateFlags {
  std::string name;
  std::string role;
  std::string sandbox;
  absl::Duration ttl = absl::ZeroDuration();
};

absl::Status CreateToken(CommandContext& ctx, const CreateFlags& flags) {
  v1::CreateTokenRequest req;
  req.set_name(flags.name);
  req.set_role(RoleOf(flags.role));
  req.set_sandbox_id(flags.sandbox);
  ASSIGN_OR_RETURN(uint32_t ttl, TtlSeconds(flags.ttl));
  req.set_ttl_seconds(ttl);
  ASSIGN_OR_RETURN(v1::CreateTokenResponse resp,
                   ctx.client().Call(&v1::LabAccess::Stub::CreateToken, req));
  return PrintResult(ctx, resp, [&](std::ostream& out) {
    const v1::Token& t = resp.token();
    out << "token " << t.token_id() << " (" << RoleWord(t.role()) << " '" << t.name() << "'"
        << (t.sandbox_id().empty() ? "" : ", sandbox " + t.sandbox_id())
        << (t.has_expires_at() ? ", expires " + FormatTime(t.expires_at(), absl::Now()) : "")
        << "):\n"
        << resp.secret() << "\n"
        << "It is shown this once; the controller keeps only its hash.\n";
  });
}

absl::Status ListTokens(CommandContext& ctx) {
  ASSIGN_OR_RETURN(v1::ListTokensResponse resp,
                   ctx.client().Call(&v1::LabAccess::Stub::ListTokens, v1::ListTokensRequest()));
  return PrintResult(ctx, resp, [&](std::ostream& out) {
    const absl::Time now = absl::Now();
    Table table({"TOKEN", "NAME", "ROLE", "SANDBOX", "STATE", "CREATED", "EXPIRES", "BY"});
    for (const v1::Token& t : resp.tokens()) {
      table.AddRow({t.token_id(), t.name(), RoleWord(t.role()),
                    t.sandbox_id().empty() ? "-" : ShortId(t.sandbox_id()), TokenState(t, now),
                    FormatAge(t.created_at(), now),
                    t.has_expires_at() ? FormatTime(t.expires_at(), now) : "never", t.created_by()});
    }
    table.Print(out);
    if (resp.tokens_size() == 0) out << "(no tokens)\n";
  });
}

absl::Status RevokeToken(CommandContext& ctx, const std::string& token_id) {
  v1::RevokeTokenRequest req;
  req.set_token_id(token_id);
  ASSIGN_OR_RETURN(v1::Token t, ctx.client().Call(&v1::LabAccess::Stub::RevokeToken, req));
  return PrintResult(ctx, t, [&](std::ostream& out) {
    out << "token " << t.token_id() << " ('" << t.name() << "') revoked; calls with it are "
        << "refused from now on\n";
  });
}

// RFC 3339, or a duration back from `now` ("90m").
absl::StatusOr<absl::Time> ParseSince(const std::string& text, absl::Time now) {
  absl::Duration ago;
  if (absl::ParseDuration(text, &ago) && ago >= absl::ZeroDuration()) return now - ago;
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return t;
  return absl::InvalidArgumentError(absl::StrCat(
      "--since: '", text, "' is neither an RFC 3339 time (2026-12-01T09:00:00Z) nor a duration "
      "back from now (90m, 24h)"));
}

struct AuditFlags {
  std::string since;
  uint64_t after = 0;
  uint32_t limit = 0;
};

absl::Status ListAudit(CommandContext& ctx, const AuditFlags& flags) {
  v1::ListAuditRequest req;
  req.set_after_seq(flags.after);
  req.set_limit(flags.limit);
  if (!flags.since.empty()) {
    ASSIGN_OR_RETURN(absl::Time since, ParseSince(flags.since, absl::Now()));
    *req.mutable_since() = ToTimestamp(since);
  }
  ASSIGN_OR_RETURN(v1::ListAuditResponse resp, ctx.client().Call(&v1::LabAccess::Stub::ListAudit, req));
  return PrintResult(ctx, resp, [&](std::ostream& out) {
    const absl::Time now = absl::Now();
    Table table({"SEQ", "TIME", "WHO", "ROLE", "CALL", "TARGET", "RESULT", "PEER"});
    for (const v1::AuditRecord& r : resp.records()) {
      std::string call = r.method();
      if (size_t slash = call.find('/'); slash != std::string::npos) call = call.substr(slash + 1);
      table.AddRow({absl::StrCat(r.seq()), FormatTime(r.time(), now), r.principal(),
                    RoleWord(r.role()), call, r.target().empty() ? "-" : r.target(),
                    r.result() == "OK" ? "OK" : absl::StrCat(r.result(), ": ", r.message()),
                    r.peer()});
    }
    table.Print(out);
    if (resp.records_size() == 0) out << "(no audit records)\n";
  });
}

void AddTokenCommands(CLI::App& root, CommandContext& ctx) {
  CLI::App* token = root.add_subcommand("token", "access tokens and their roles (admin only)");
  token->require_subcommand(1);

  auto create = std::make_shared<CreateFlags>();
  CLI::App* c = token->add_subcommand("create", "make a token; its secret is printed once");
  c->add_option("--name", create->name, "who holds it (1 to 64 of A-Z a-z 0-9 . _ @ -)")->required();
  c->add_option("--role", create->role, std::string("admin, operator, trainer or candidate"))
      ->required()
      ->check(CLI::IsMember({"admin", "operator", "trainer", "candidate"}));
  c->add_option("--sandbox", create->sandbox, "a candidate token's sandbox id (required for it)");
  AddDurationOption(*c, "--ttl", &create->ttl, "expire after this long (default: never)");
  c->callback([&ctx, create] { ctx.SetAction([&ctx, create] { return CreateToken(ctx, *create); }); });

  token->add_subcommand("list", "every token: role, state, expiry (never the secrets)")
      ->callback([&ctx] { ctx.SetAction([&ctx] { return ListTokens(ctx); }); });

  auto id = std::make_shared<std::string>();
  CLI::App* r = token->add_subcommand("revoke", "refuse a token from now on");
  r->add_option("TOKEN_ID", *id, "the 16-hex-digit id from `token list`")->required();
  r->callback([&ctx, id] { ctx.SetAction([&ctx, id] { return RevokeToken(ctx, *id); }); });
}

void AddAuditCommands(CLI::App& root, CommandContext& ctx) {
  CLI::App* audit = root.add_subcommand("audit", "who did what: the controller's audit log");
  audit->require_subcommand(1);
  auto flags = std::make_shared<AuditFlags>();
  CLI::App* list = audit->add_subcommand(
      "list", "mutating calls, console attaches and refusals, oldest first");
  list->add_option("--since", flags->since,
                   "from this RFC 3339 time, or this long ago (90m, 24h)");
  list->add_option("--after", flags->after, "only records after this sequence number");
  list->add_option("--limit", flags->limit, "at most this many (default and cap 1000)");
  list->callback([&ctx, flags] { ctx.SetAction([&ctx, flags] { return ListAudit(ctx, *flags); }); });
}

}  // namespace

void AddAccessCommands(CLI::App& root, CommandContext& ctx) {
  AddTokenCommands(root, ctx);
  AddAuditCommands(root, ctx);
}

}  // namespace labrack::cli
