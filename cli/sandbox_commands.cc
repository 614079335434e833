// Sandbox commands. create always sends a request_id (generated unless given) and retries
// an UNAVAILABLE or DEADLINE_EXCEEDED create with the same one, which the controller
// answers with the first attempt's sandbox. --wait hands over to WaitForSandbox.
#include "cli/sandbox_commands.h"

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/capture_commands.h"
#include "cli/console.h"
#include "cli/create_retry.h"
#include "cli/exit_codes.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/progress_line.h"
#include "cli/sandbox_view.h"
#include "cli/wait_progress.h"
#include "common/status_macros.h"
#include "common/uuid.h"

namespace labrack::cli {
namespace {

struct SandboxOptions {
  std::string id;
  // create
  std::string topology;
  uint64_t topology_version = 0;
  std::string candidate;
  std::vector<std::string> labels;
  std::vector<std::string> image_overrides;
  std::string request_id;
  absl::Duration ttl = absl::ZeroDuration();  // zero: never expires
  // list
  std::string phase;
  std::string host;
  bool all = false;
  // reset
  std::vector<std::string> nodes;
  // create, reset, destroy
  bool wait = false;
  absl::Duration timeout = absl::Minutes(10);
  // console
  ConsoleOptions console;
};

using Options = std::shared_ptr<SandboxOptions>;

absl::Status PrintSandbox(CommandContext& ctx, const v1::Sandbox& sandbox) {
  return PrintResult(ctx, sandbox,
                     [&](std::ostream& out) { PrintSandboxDetails(sandbox, absl::Now(), out); });
}

// Waits when --wait was given, then prints the sandbox as it is.
absl::Status FinishMutation(CommandContext& ctx, const SandboxOptions& o, v1::Sandbox sandbox,
                            WaitGoal goal) {
  if (o.wait) {
    ProgressLine progress(ctx.io().err, ctx.io().stderr_is_tty);
    WaitOptions wait{goal, sandbox.generation(), o.timeout};
    ASSIGN_OR_RETURN(sandbox, WaitForSandbox(ctx.client(), sandbox, wait, progress));
  }
  if (goal == WaitGoal::kDestroyed && !ctx.global().json()) {
    ctx.io().out << "sandbox " << sandbox.sandbox_id() << " "
                 << (sandbox.phase() == v1::SANDBOX_PHASE_DESTROYED
                         ? "destroyed"
                         : "is " + PhaseWord(sandbox.phase()))
                 << "\n";
    return absl::OkStatus();
  }
  return PrintSandbox(ctx, sandbox);
}

absl::Status Create(CommandContext& ctx, const SandboxOptions& o) {
  v1::CreateSandboxRequest req;
  req.set_topology(o.topology);
  req.set_topology_version(o.topology_version);
  req.set_candidate(o.candidate);
  for (const auto& [k, v] : LabelMap(o.labels)) (*req.mutable_labels())[k] = v;
  for (const auto& [name, other] : ImageOverrideMap(o.image_overrides)) {
    (*req.mutable_image_overrides())[name] = other;
  }
  req.set_request_id(o.request_id.empty() ? NewUuid4() : o.request_id);
  ASSIGN_OR_RETURN(uint32_t ttl, TtlSeconds(o.ttl));
  req.set_ttl_seconds(ttl);
  ASSIGN_OR_RETURN(v1::Sandbox sandbox,
                   CallCreate(ctx, &v1::LabController::Stub::CreateSandbox, req, "sandbox"));
  return FinishMutation(ctx, o, std::move(sandbox), WaitGoal::kReady);
}

absl::Status List(CommandContext& ctx, const SandboxOptions& o) {
  v1::ListSandboxesRequest req;
  if (!o.phase.empty()) req.set_phase(ParsePhase(o.phase).value_or(v1::SANDBOX_PHASE_UNSPECIFIED));
  req.set_host_id(o.host);
  req.set_candidate(o.candidate);
  for (const auto& [k, v] : LabelMap(o.labels)) (*req.mutable_labels())[k] = v;
  req.set_include_destroyed(o.all);
  ASSIGN_OR_RETURN(v1::ListSandboxesResponse resp,
                   ctx.client().Call(&v1::LabController::Stub::ListSandboxes, req));
  return PrintResult(ctx, resp,
                     [&](std::ostream& out) { PrintSandboxTable(resp, absl::Now(), out); });
}

absl::Status Get(CommandContext& ctx, const SandboxOptions& o) {
  v1::GetSandboxRequest req;
  req.set_sandbox_id(o.id);
  ASSIGN_OR_RETURN(v1::Sandbox sandbox,
                   ctx.client().Call(&v1::LabController::Stub::GetSandbox, req));
  return PrintSandbox(ctx, sandbox);
}

absl::Status Reset(CommandContext& ctx, const SandboxOptions& o) {
  v1::ResetSandboxRequest req;
  req.set_sandbox_id(o.id);
  for (const std::string& node : o.nodes) req.add_nodes(node);
  ASSIGN_OR_RETURN(v1::Sandbox sandbox,
                   ctx.client().Call(&v1::LabController::Stub::ResetSandbox, req));
  return FinishMutation(ctx, o, std::move(sandbox), WaitGoal::kReady);
}

absl::Status Destroy(CommandContext& ctx, const SandboxOptions& o) {
  v1::DestroySandboxRequest req;
  req.set_sandbox_id(o.id);
  ASSIGN_OR_RETURN(v1::Sandbox sandbox,
                   ctx.client().Call(&v1::LabController::Stub::DestroySandbox, req));
  return FinishMutation(ctx, o, std::move(sandbox), WaitGoal::kDestroyed);
}

absl::Status Console(CommandContext& ctx, const SandboxOptions& o) {
  ConsoleOptions console = o.console;
  console.sandbox_id = o.id;
  return RunConsole(ctx.client(), console, ctx.io());
}

// Adds a command that runs `run` with its options.
CLI::App* AddCommand(CLI::App& group, CommandContext& ctx, const std::string& name,
                     const std::string& description,
                     absl::Status (*run)(CommandContext&, const SandboxOptions&), Options o) {
  CLI::App* cmd = group.add_subcommand(name, description);
  cmd->callback([&ctx, run, o] { ctx.SetAction([&ctx, run, o] { return run(ctx, *o); }); });
  return cmd;
}

void AddIdArgument(CLI::App& cmd, Options o) {
  cmd.add_option("ID", o->id, "sandbox id as in `sandbox list`")->required();
}

void AddWaitOptions(CLI::App& cmd, Options o, const std::string& until) {
  cmd.add_flag("--wait,-w", o->wait, "show progress and return once the sandbox is " + until);
  AddDurationOption(cmd, "--timeout", &o->timeout, "how long --wait waits (exit 8 after it)");
}

void AddCreate(CLI::App& group, CommandContext& ctx) {
  Options o = std::make_shared<SandboxOptions>();
  CLI::App* cmd = AddCommand(group, ctx, "create", "create a sandbox of a topology for a candidate",
                             &Create, o);
  cmd->add_option("--topology,-t", o->topology, "topology name")->required();
  cmd->add_option("--topology-version", o->topology_version, "a stored version (default: latest)");
  cmd->add_option("--candidate,-c", o->candidate, "candidate id")->required();
  AddLabelOption(*cmd, &o->labels, "label key=value for the sandbox (repeatable)");
  AddImageOverrideOption(*cmd, &o->image_overrides,
                         "build nodes whose image is NAME from image OTHER instead, e.g. "
                         "debian-server=tiny (repeatable)");
  cmd->add_option("--request-id", o->request_id,
                  "idempotency key: a second create with it returns the first one's sandbox "
                  "(default: a random UUID)");
  AddDurationOption(*cmd, "--ttl", &o->ttl,
                    "destroy the sandbox this long after its creation (default: never)")
      ->default_str("");
  AddWaitOptions(*cmd, o, "READY");
}

void AddList(CLI::App& group, CommandContext& ctx) {
  Options o = std::make_shared<SandboxOptions>();
  CLI::App* cmd =
      AddCommand(group, ctx, "list", "list sandboxes (all filters must match)", &List, o);
  AddPhaseOption(*cmd, &o->phase, "only sandboxes in this phase (" + AllPhaseWords() + ")");
  cmd->add_option("--host", o->host, "only sandboxes on this host");
  cmd->add_option("--candidate,-c", o->candidate, "only this candidate's sandboxes");
  AddLabelOption(*cmd, &o->labels, "only sandboxes with this label key=value (repeatable)");
  cmd->add_flag("--all,-a", o->all, "include DESTROYED sandboxes");
}

void AddConsole(CLI::App& group, CommandContext& ctx) {
  Options o = std::make_shared<SandboxOptions>();
  CLI::App* cmd = AddCommand(group, ctx, "console",
                             "attach to a node's serial console (escape with Ctrl-])", &Console, o);
  AddIdArgument(*cmd, o);
  cmd->add_option("--node,-n", o->console.node, "node name as in the topology")->required();
  AddDurationOption(*cmd, "--idle-timeout", &o->console.idle_timeout,
                    "when stdin is not a terminal: end this long after stdin ended and the "
                    "console went quiet");
  AddDurationOption(*cmd, "--timeout", &o->console.session_timeout,
                    "deadline of the whole console session");
}

}  // namespace

void AddSandboxCommands(CLI::App& root, CommandContext& ctx) {
  CLI::App* group = root.add_subcommand("sandbox", "per-candidate lab sandboxes");
  group->require_subcommand(1);
  AddCreate(*group, ctx);
  AddList(*group, ctx);
  Options get = std::make_shared<SandboxOptions>();
  AddIdArgument(*AddCommand(*group, ctx, "get", "show a sandbox with its nodes", &Get, get), get);
  Options reset = std::make_shared<SandboxOptions>();
  CLI::App* cmd =
      AddCommand(*group, ctx, "reset", "restore every node's pristine state, or only --node's",
                 &Reset, reset);
  AddIdArgument(*cmd, reset);
  cmd->add_option("--node", reset->nodes,
                  "reset only this node (repeatable); the others keep their disks and run on");
  AddWaitOptions(*cmd, reset, "READY again");
  Options destroy = std::make_shared<SandboxOptions>();
  cmd = AddCommand(*group, ctx, "destroy", "tear a sandbox down", &Destroy, destroy);
  AddIdArgument(*cmd, destroy);
  AddWaitOptions(*cmd, destroy, "DESTROYED");
  AddConsole(*group, ctx);
  AddCaptureCommands(*group, ctx);
}

}  // namespace labrack::cli
