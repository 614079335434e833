// Session commands. create reads the candidates file and --start locally, always sends a
// request_id (generated unless given) and retries an UNAVAILABLE or DEADLINE_EXCEEDED create
// with the same one, as sandbox create does. --wait and --watch hand over to FollowSession.
#include "cli/session_commands.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/candidates_file.h"
#include "cli/create_retry.h"
#include "cli/exit_codes.h"
#include "cli/flags.h"
#include "cli/interrupt.h"
#include "cli/output.h"
#include "cli/progress_line.h"
#include "cli/session_view.h"
#include "cli/session_watch.h"
#include "cli/start_time.h"
#include "common/status_macros.h"
#include "common/uuid.h"

namespace labrack::cli {
namespace {

struct SessionOptions {
  std::string session;  // get, end: id or name
  // create
  std::string name;
  std::string topology;
  uint64_t topology_version = 0;
  std::string candidates_file;
  std::string start;
  absl::Duration duration = absl::ZeroDuration();
  absl::Duration lead = absl::Minutes(15);
  std::vector<std::string> image_overrides;
  bool no_evidence = false;
  std::string pool;
  std::string request_id;
  // list
  bool all = false;
  // create --wait, get --watch, end --wait
  bool follow = false;
  absl::Duration timeout = absl::Minutes(30);
};

using Options = std::shared_ptr<SessionOptions>;

// Whole seconds, rounded up so that a short but positive value never becomes 0.
absl::StatusOr<uint32_t> Seconds(absl::Duration d, const std::string& flag) {
  int64_t s = absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1)));
  if (s < 0 || s > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", absl::FormatDuration(d), " is out of range"));
  }
  return static_cast<uint32_t>(s);
}

absl::Status PrintSession(CommandContext& ctx, const v1::Session& session) {
  return PrintResult(ctx, session,
                     [&](std::ostream& out) { PrintSessionDetails(session, absl::Now(), out); });
}

// Follows `session` to `goal` with a progress line on stderr; `*last` is the newest
// snapshot, also on failure.
absl::Status Follow(CommandContext& ctx, const SessionOptions& o, const v1::Session& session,
                    SessionGoal goal, v1::Session* last, std::function<bool()> stop = nullptr) {
  ProgressLine progress(ctx.io().err, ctx.io().stderr_is_tty);
  FollowOptions follow;
  follow.goal = goal;
  follow.timeout = o.timeout;
  follow.stop = std::move(stop);
  return FollowSession(ctx.client(), session, follow, progress, last);
}

absl::StatusOr<v1::CreateSessionRequest> CreateRequest(CommandContext& ctx,
                                                       const SessionOptions& o) {
  v1::CreateSessionRequest req;
  req.set_name(o.name);
  req.set_topology(o.topology);
  req.set_topology_version(o.topology_version);
  for (const auto& [name, other] : ImageOverrideMap(o.image_overrides)) {
    (*req.mutable_image_overrides())[name] = other;
  }
  ASSIGN_OR_RETURN(std::vector<std::string> candidates,
                   ReadCandidatesFile(o.candidates_file, ctx.io().in));
  for (std::string& c : candidates) req.add_candidates(std::move(c));
  ASSIGN_OR_RETURN(std::optional<absl::Time> start,
                   ParseStartTime(o.start.empty() ? "now" : o.start, absl::Now()));
  if (start.has_value()) {
    req.mutable_start_time()->set_seconds(absl::ToUnixSeconds(*start));
  }
  ASSIGN_OR_RETURN(uint32_t duration, Seconds(o.duration, "--duration"));
  ASSIGN_OR_RETURN(uint32_t lead, Seconds(o.lead, "--lead"));
  req.set_duration_seconds(duration);
  req.set_lead_seconds(lead);
  req.set_skip_evidence(o.no_evidence);
  req.set_pool(o.pool);
  req.set_request_id(o.request_id.empty() ? NewUuid4() : o.request_id);
  return req;
}

absl::Status Create(CommandContext& ctx, const SessionOptions& o) {
  ASSIGN_OR_RETURN(v1::CreateSessionRequest req, CreateRequest(ctx, o));
  ASSIGN_OR_RETURN(v1::Session session,
                   CallCreate(ctx, &v1::LabController::Stub::CreateSession, req, "session"));
  if (o.follow) {
    v1::Session last;
    RETURN_IF_ERROR(Follow(ctx, o, session, SessionGoal::kReady, &last));
    session = std::move(last);
  }
  return PrintSession(ctx, session);
}

absl::Status Get(CommandContext& ctx, const SessionOptions& o) {
  v1::GetSessionRequest req;
  req.set_session(o.session);
  ASSIGN_OR_RETURN(v1::Session session,
                   ctx.client().Call(&v1::LabController::Stub::GetSession, req));
  if (!o.follow) return PrintSession(ctx, session);
  v1::Session last;
  absl::Status followed;
  {
    InterruptFlag interrupt;
    followed = Follow(ctx, o, session, SessionGoal::kEnded, &last,
                      [&interrupt] { return interrupt.requested(); });
  }
  // What was seen last is worth printing after a timeout too.
  RETURN_IF_ERROR(PrintSession(ctx, last));
  return followed;
}

absl::Status List(CommandContext& ctx, const SessionOptions& o) {
  v1::ListSessionsRequest req;
  req.set_include_ended(o.all);
  ASSIGN_OR_RETURN(v1::ListSessionsResponse resp,
                   ctx.client().Call(&v1::LabController::Stub::ListSessions, req));
  return PrintResult(ctx, resp,
                     [&](std::ostream& out) { PrintSessionTable(resp, absl::Now(), out); });
}

// OK unless the session ENDED with something left behind.
absl::Status CheckNothingLeft(const v1::Session& s) {
  if (s.phase() != v1::SESSION_PHASE_ENDED || s.report().nothing_left()) return absl::OkStatus();
  std::string what = absl::StrCat("session ", s.name(),
                                  " ended, but its hosts did not confirm "
                                  "that nothing is left");
  if (!s.report().leftovers().empty()) {
    absl::StrAppend(&what, ": ", s.report().leftovers_size(),
                    " leftover(s), the first: ", s.report().leftovers(0));
  }
  return WithExitCode(absl::FailedPreconditionError(what), kExitLeftovers);
}

absl::Status End(CommandContext& ctx, const SessionOptions& o) {
  v1::EndSessionRequest req;
  req.set_session(o.session);
  ASSIGN_OR_RETURN(v1::Session session,
                   ctx.client().Call(&v1::LabController::Stub::EndSession, req));
  if (o.follow) {
    v1::Session last;
    RETURN_IF_ERROR(Follow(ctx, o, session, SessionGoal::kEnded, &last));
    session = std::move(last);
  }
  RETURN_IF_ERROR(PrintResult(ctx, session, [&](std::ostream& out) {
    out << "session " << session.name() << " is " << SessionPhaseWord(session.phase());
    if (!session.message().empty()) out << " (" << session.message() << ")";
    out << "\n";
    PrintSessionReport(session, absl::Now(), out);
  }));
  return CheckNothingLeft(session);
}

// Adds a command that runs `run` with its options.
CLI::App* AddCommand(CLI::App& group, CommandContext& ctx, const std::string& name,
                     const std::string& description,
                     absl::Status (*run)(CommandContext&, const SessionOptions&), Options o) {
  CLI::App* cmd = group.add_subcommand(name, description);
  cmd->callback([&ctx, run, o] { ctx.SetAction([&ctx, run, o] { return run(ctx, *o); }); });
  return cmd;
}

void AddSessionArgument(CLI::App& cmd, Options o) {
  cmd.add_option("SESSION", o->session, "session id, or name (its most recent session)")
      ->required();
}

void AddFollowOptions(CLI::App& cmd, Options o, const std::string& flag, const std::string& what) {
  cmd.add_flag(flag, o->follow, what);
  AddDurationOption(cmd, "--timeout", &o->timeout,
                    "how long " + flag.substr(0, flag.find(',')) + " follows (exit 8 after it)");
}

void AddCreate(CLI::App& group, CommandContext& ctx) {
  Options o = std::make_shared<SessionOptions>();
  CLI::App* cmd =
      AddCommand(group, ctx, "create", "create a session: one sandbox of a topology per candidate",
                 &Create, o);
  cmd->add_option("--name", o->name, "session name: 1 to 63 of a-z, 0-9 and '-'")->required();
  cmd->add_option("--topology,-t", o->topology, "topology name")->required();
  cmd->add_option("--topology-version", o->topology_version, "a stored version (default: latest)");
  cmd->add_option("--candidates", o->candidates_file,
                  "CSV file, one candidate id a line in the first column ('#' comments, an "
                  "optional 'candidate' header); - reads stdin")
      ->required();
  AddStartTimeOption(*cmd, &o->start,
                     std::string("when the exam starts: ") + kStartTimeForms + " (default: now)");
  AddDurationOption(*cmd, "--duration", &o->duration, "how long the exam lasts, e.g. 150m")
      ->required();
  AddDurationOption(*cmd, "--lead", &o->lead,
                    "how long before --start provisioning begins (0: at --start)",
                    /*zero_ok=*/true);
  AddImageOverrideOption(*cmd, &o->image_overrides,
                         "build nodes whose image is NAME from image OTHER instead, e.g. "
                         "debian-server=tiny (repeatable)");
  cmd->add_flag("--no-evidence", o->no_evidence,
                "keep no evidence: sandboxes are destroyed at the end without being collected");
  cmd->add_option("--pool", o->pool,
                  "hand READY sandboxes of this warm pool (same topology) to candidates first; "
                  "the rest are built");
  cmd->add_option("--request-id", o->request_id,
                  "idempotency key: a second create with it returns the first one's session "
                  "(default: a random UUID)");
  AddFollowOptions(*cmd, o, "--wait,-w",
                   "show progress and return once every candidate's sandbox is READY");
}

}  // namespace

void AddSessionCommands(CLI::App& root, CommandContext& ctx) {
  CLI::App* group = root.add_subcommand("session", "exam sessions: a sandbox per candidate");
  group->require_subcommand(1);
  AddCreate(*group, ctx);
  Options get = std::make_shared<SessionOptions>();
  get->timeout = absl::Hours(12);
  CLI::App* cmd = AddCommand(*group, ctx, "get", "show a session with its candidates", &Get, get);
  AddSessionArgument(*cmd, get);
  AddFollowOptions(*cmd, get, "--watch",
                   "show progress until the session is ENDED (or Ctrl-C), then print it");
  Options list = std::make_shared<SessionOptions>();
  cmd = AddCommand(*group, ctx, "list", "list sessions that have not ENDED", &List, list);
  cmd->add_flag("--all,-a", list->all, "include ENDED sessions");
  Options end = std::make_shared<SessionOptions>();
  cmd = AddCommand(*group, ctx, "end",
                   "end a session now: freeze, collect evidence, tear down (exit 9 if "
                   "anything was left)",
                   &End, end);
  AddSessionArgument(*cmd, end);
  AddFollowOptions(*cmd, end, "--wait,-w", "show progress until the session is ENDED");
}

}  // namespace labrack::cli
