// Capture and clone. Both take seconds (the guests pause while their disks are copied, then
// the images travel to the controller), so each call's deadline is --timeout rather than
// the RPC timeout. clone always sends a request_id and retries with it, so a repeat never
// makes a second set of clones; --wait then waits for every clone in turn.
#include "cli/capture_commands.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/create_retry.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/progress_line.h"
#include "cli/sandbox_view.h"
#include "cli/wait_progress.h"
#include "common/status_macros.h"
#include "common/uuid.h"

namespace labrack::cli {
namespace {

struct CaptureOptions {
  std::string id;
  // capture
  std::string image;
  // clone
  uint32_t count = 0;
  std::vector<std::string> labels;
  std::string request_id;
  absl::Duration ttl = absl::ZeroDuration();  // zero: never expires
  bool wait = false;
  absl::Duration timeout = absl::Minutes(10);
};

using Options = std::shared_ptr<CaptureOptions>;

// One line per image: its name, version, the layer's size and what it is layered on.
void PrintImages(const google::protobuf::RepeatedPtrField<v1::Image>& images, std::ostream& out) {
  Table table({"IMAGE", "VERSION", "LAYER", "ON"});
  for (const v1::Image& image : images) {
    const v1::ImageManifest& m = image.manifest();
    std::string layer, on;
    for (const v1::ImageArtifact& a : m.artifacts()) {
      if (a.kind() == v1::ARTIFACT_KIND_DISK) layer = FormatBytes(a.size_bytes());
      if (a.kind() == v1::ARTIFACT_KIND_BACKING_DISK && on.empty()) on = a.sha256().substr(0, 12);
    }
    table.AddRow({m.name(), m.version(), layer, on.empty() ? "-" : "disk " + on});
  }
  table.Print(out);
}

absl::Status Capture(CommandContext& ctx, const CaptureOptions& o) {
  v1::CaptureSandboxRequest req;
  req.set_sandbox_id(o.id);
  req.set_image(o.image);
  ASSIGN_OR_RETURN(v1::CaptureSandboxResponse resp,
                   ctx.client().Call(&v1::LabController::Stub::CaptureSandbox, req, o.timeout));
  return PrintResult(ctx, resp, [&](std::ostream& out) {
    out << "sandbox " << o.id << " captured as " << resp.images_size() << " images:\n";
    PrintImages(resp.images(), out);
    out << "a topology names them like any image, e.g. --image-override IMAGE="
        << (resp.images().empty() ? "" : resp.images(0).manifest().name()) << "\n";
  });
}

absl::Status Clone(CommandContext& ctx, const CaptureOptions& o) {
  v1::CloneSandboxRequest req;
  req.set_sandbox_id(o.id);
  req.set_count(o.count);
  for (const auto& [k, v] : LabelMap(o.labels)) (*req.mutable_labels())[k] = v;
  // A random UUID is 36 characters, inside the 56 a clone's request_id may have.
  req.set_request_id(o.request_id.empty() ? NewUuid4() : o.request_id);
  ASSIGN_OR_RETURN(uint32_t ttl, TtlSeconds(o.ttl));
  req.set_ttl_seconds(ttl);
  ASSIGN_OR_RETURN(v1::CloneSandboxResponse resp,
                   CallCreate(ctx, &v1::LabController::Stub::CloneSandbox, req, "set of clones",
                              "clone", "making", o.timeout));
  if (o.wait) {
    for (v1::Sandbox& clone : *resp.mutable_sandboxes()) {
      ProgressLine progress(ctx.io().err, ctx.io().stderr_is_tty);
      WaitOptions wait{WaitGoal::kReady, clone.generation(), o.timeout};
      ASSIGN_OR_RETURN(clone, WaitForSandbox(ctx.client(), clone, wait, progress));
    }
  }
  return PrintResult(ctx, resp, [&](std::ostream& out) {
    out << resp.sandboxes_size() << " clones of sandbox " << o.id << ", built from:\n";
    PrintImages(resp.images(), out);
    out << "\n";
    v1::ListSandboxesResponse list;
    *list.mutable_sandboxes() = resp.sandboxes();
    PrintSandboxTable(list, absl::Now(), out);
  });
}

CLI::App* AddCommand(CLI::App& group, CommandContext& ctx, const std::string& name,
                     const std::string& description,
                     absl::Status (*run)(CommandContext&, const CaptureOptions&), Options o) {
  CLI::App* cmd = group.add_subcommand(name, description);
  cmd->callback([&ctx, run, o] { ctx.SetAction([&ctx, run, o] { return run(ctx, *o); }); });
  cmd->add_option("ID", o->id, "sandbox id as in `sandbox list` (READY)")->required();
  return cmd;
}

}  // namespace

void AddCaptureCommands(CLI::App& group, CommandContext& ctx) {
  Options capture = std::make_shared<CaptureOptions>();
  CLI::App* cmd = AddCommand(group, ctx, "capture",
                             "make each node's current disk an image NAME-<node>, layered on "
                             "the node's image",
                             &Capture, capture);
  cmd->add_option("--image", capture->image, "name prefix of the images")->required();
  AddDurationOption(*cmd, "--timeout", &capture->timeout,
                    "deadline of the capture (the guests pause while their disks are copied)");

  Options clone = std::make_shared<CaptureOptions>();
  cmd = AddCommand(group, ctx, "clone", "make COUNT new sandboxes of a sandbox's current state",
                   &Clone, clone);
  cmd->add_option("--count,-n", clone->count, "how many clones (1 to 64)")->required();
  AddLabelOption(*cmd, &clone->labels, "label key=value for every clone (repeatable)");
  cmd->add_option("--request-id", clone->request_id,
                  "idempotency key: a second clone with it returns the first one's clones "
                  "(default: a random UUID)");
  AddDurationOption(*cmd, "--ttl", &clone->ttl,
                    "destroy each clone this long after its creation (default: never)")
      ->default_str("");
  cmd->add_flag("--wait,-w", clone->wait, "show progress and return once every clone is READY");
  AddDurationOption(*cmd, "--timeout", &clone->timeout,
                    "deadline of the clone call, and of --wait for each clone");
}

}  // namespace labrack::cli
