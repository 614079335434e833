// Pool commands. create and assign always send a request_id (generated unless given) and
// repeat an UNAVAILABLE or DEADLINE_EXCEEDED call with the same one, which the controller
// answers with what the first attempt made or handed out: a retried assign never hands out
// a second sandbox. --name and --size are checked here, so that a typo sends nothing.
#include "cli/pool_commands.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/create_retry.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/pool_view.h"
#include "cli/sandbox_view.h"
#include "common/status_macros.h"
#include "common/uuid.h"

namespace labrack::cli {
namespace {

constexpr size_t kMaxNameChars = 63;
constexpr int64_t kMinSize = 1;
constexpr int64_t kMaxSize = 200;

struct PoolOptions {
  std::string pool;  // get, delete, assign
  // create
  std::string name;
  std::string topology;
  uint32_t size = 0;
  std::vector<std::string> image_overrides;
  // assign
  std::string candidate;
  std::vector<std::string> labels;
  // create, assign
  std::string request_id;
};

using Options = std::shared_ptr<PoolOptions>;

// CLI11 puts the flag's name in front of the message.
CLI::Validator NameValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        bool ok = !text.empty() && text.size() <= kMaxNameChars &&
                  std::all_of(text.begin(), text.end(), [](char c) {
                    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-';
                  });
        if (ok) return "";
        return absl::StrCat("'", text, "' must be 1 to ", kMaxNameChars,
                            " characters of a-z, 0-9 and '-'");
      },
      "NAME");
}

CLI::Validator SizeValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        int64_t n = 0;
        if (absl::SimpleAtoi(text, &n) && n >= kMinSize && n <= kMaxSize) return "";
        return absl::StrCat("'", text, "' must be a whole number from ", kMinSize, " to ",
                            kMaxSize);
      },
      "N");
}

absl::Status PrintPool(CommandContext& ctx, const v1::Pool& pool) {
  return PrintResult(ctx, pool,
                     [&](std::ostream& out) { PrintPoolDetails(pool, absl::Now(), out); });
}

absl::Status Create(CommandContext& ctx, const PoolOptions& o) {
  v1::CreatePoolRequest req;
  req.set_name(o.name);
  req.set_topology(o.topology);
  req.set_size(o.size);
  for (const auto& [name, other] : ImageOverrideMap(o.image_overrides)) {
    (*req.mutable_image_overrides())[name] = other;
  }
  req.set_request_id(o.request_id.empty() ? NewUuid4() : o.request_id);
  ASSIGN_OR_RETURN(v1::Pool pool,
                   CallCreate(ctx, &v1::LabController::Stub::CreatePool, req, "pool"));
  return PrintPool(ctx, pool);
}

absl::Status Get(CommandContext& ctx, const PoolOptions& o) {
  v1::GetPoolRequest req;
  req.set_name(o.pool);
  ASSIGN_OR_RETURN(v1::Pool pool, ctx.client().Call(&v1::LabController::Stub::GetPool, req));
  return PrintPool(ctx, pool);
}

absl::Status List(CommandContext& ctx, const PoolOptions& o) {
  ASSIGN_OR_RETURN(v1::ListPoolsResponse resp,
                   ctx.client().Call(&v1::LabController::Stub::ListPools, v1::ListPoolsRequest()));
  return PrintResult(ctx, resp, [&](std::ostream& out) { PrintPoolTable(resp, out); });
}

absl::Status Delete(CommandContext& ctx, const PoolOptions& o) {
  v1::DeletePoolRequest req;
  req.set_name(o.pool);
  ASSIGN_OR_RETURN(v1::Pool pool, ctx.client().Call(&v1::LabController::Stub::DeletePool, req));
  return PrintPool(ctx, pool);
}

absl::Status Assign(CommandContext& ctx, const PoolOptions& o) {
  v1::AssignFromPoolRequest req;
  req.set_pool(o.pool);
  req.set_candidate(o.candidate);
  for (const auto& [k, v] : LabelMap(o.labels)) (*req.mutable_labels())[k] = v;
  req.set_request_id(o.request_id.empty() ? NewUuid4() : o.request_id);
  ASSIGN_OR_RETURN(v1::Sandbox sandbox,
                   CallCreate(ctx, &v1::LabController::Stub::AssignFromPool, req, "sandbox",
                              "assign", "handing out"));
  return PrintResult(ctx, sandbox,
                     [&](std::ostream& out) { PrintSandboxDetails(sandbox, absl::Now(), out); });
}

// Adds a command that runs `run` with its options.
CLI::App* AddCommand(CLI::App& group, CommandContext& ctx, const std::string& name,
                     const std::string& description,
                     absl::Status (*run)(CommandContext&, const PoolOptions&), Options o) {
  CLI::App* cmd = group.add_subcommand(name, description);
  cmd->callback([&ctx, run, o] { ctx.SetAction([&ctx, run, o] { return run(ctx, *o); }); });
  return cmd;
}

void AddPoolArgument(CLI::App& cmd, Options o) {
  cmd.add_option("POOL", o->pool, "pool name as in `pool list`")->required();
}

void AddRequestIdOption(CLI::App& cmd, Options o, const std::string& what) {
  cmd.add_option("--request-id", o->request_id,
                 "idempotency key: a second call with it returns the first one's " + what +
                     " (default: a random UUID)");
}

void AddCreate(CLI::App& group, CommandContext& ctx) {
  Options o = std::make_shared<PoolOptions>();
  CLI::App* cmd =
      AddCommand(group, ctx, "create",
                 "create a pool that keeps --size READY sandboxes of a topology", &Create, o);
  cmd->add_option("--name", o->name, "pool name: 1 to 63 of a-z, 0-9 and '-'")
      ->required()
      ->check(NameValidator());
  cmd->add_option("--topology,-t", o->topology,
                  "topology name (the pool follows its latest "
                  "version)")
      ->required();
  cmd->add_option("--size", o->size, "how many READY sandboxes to keep: 1 to 200")
      ->required()
      ->check(SizeValidator());
  AddImageOverrideOption(*cmd, &o->image_overrides,
                         "build nodes whose image is NAME from image OTHER instead, e.g. "
                         "debian-server=tiny (repeatable)");
  AddRequestIdOption(*cmd, o, "pool");
}

void AddAssign(CLI::App& group, CommandContext& ctx) {
  Options o = std::make_shared<PoolOptions>();
  CLI::App* cmd = AddCommand(group, ctx, "assign",
                             "hand a READY sandbox of the pool to a candidate (exit 5 when none "
                             "is ready)",
                             &Assign, o);
  AddPoolArgument(*cmd, o);
  cmd->add_option("--candidate,-c", o->candidate, "candidate id")->required();
  AddLabelOption(*cmd, &o->labels, "label key=value for the sandbox (repeatable)");
  AddRequestIdOption(*cmd, o, "sandbox");
}

}  // namespace

void AddPoolCommands(CLI::App& root, CommandContext& ctx) {
  CLI::App* group = root.add_subcommand("pool", "warm pools: READY sandboxes built ahead");
  group->require_subcommand(1);
  AddCreate(*group, ctx);
  Options get = std::make_shared<PoolOptions>();
  AddPoolArgument(*AddCommand(*group, ctx, "get", "show a pool", &Get, get), get);
  AddCommand(*group, ctx, "list", "list pools", &List, std::make_shared<PoolOptions>());
  Options del = std::make_shared<PoolOptions>();
  AddPoolArgument(*AddCommand(*group, ctx, "delete",
                              "delete a pool: its idle sandboxes are destroyed, sandboxes "
                              "handed out stay",
                              &Delete, del),
                  del);
  AddAssign(*group, ctx);
}

}  // namespace labrack::cli
