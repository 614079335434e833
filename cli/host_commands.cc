// Host commands: ListHosts as a table, DrainHost both ways. NOT_FOUND for an unknown host
// comes from the controller and keeps its message.
#include "cli/host_commands.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/output.h"
#include "common/status_macros.h"

namespace labrack::cli {
namespace {

std::string UsedOfTotal(uint64_t used, uint64_t total, bool mib) {
  if (mib) return absl::StrCat(FormatMib(used), "/", FormatMib(total));
  return absl::StrCat(used, "/", total);
}

void PrintHosts(const v1::ListHostsResponse& resp, std::ostream& out) {
  Table table({"HOST", "ADDRESS", "HEALTH", "DRAINED", "GUESTS", "VCPUS", "MEMORY", "DISK",
               "SANDBOXES", "IMAGES", "LAST-SEEN"});
  absl::Time now = absl::Now();
  for (const v1::Host& h : resp.hosts()) {
    table.AddRow({h.host_id(), h.address(), HealthWord(h.health()), h.drained() ? "yes" : "no",
                  h.domain_type().empty() ? "-" : h.domain_type(),
                  UsedOfTotal(h.reserved().vcpus(), h.total().vcpus(), false),
                  UsedOfTotal(h.reserved().memory_mib(), h.total().memory_mib(), true),
                  UsedOfTotal(h.reserved().disk_mib(), h.total().disk_mib(), true),
                  absl::StrCat(h.sandboxes()), absl::StrCat(h.images_size()),
                  FormatAge(h.last_heartbeat(), now)});
  }
  table.Print(out);
  if (resp.hosts_size() == 0) out << "(no hosts registered)\n";
  // Why each host runs guests as it does: the flag, the KVM probe, or a move to emulation.
  for (const v1::Host& h : resp.hosts()) {
    if (h.domain_type_reason().empty()) continue;
    out << h.host_id() << ": " << h.domain_type() << ", " << h.domain_type_reason() << "\n";
  }
}

absl::Status ListHosts(CommandContext& ctx) {
  ASSIGN_OR_RETURN(v1::ListHostsResponse resp,
                   ctx.client().Call(&v1::LabController::Stub::ListHosts, v1::ListHostsRequest()));
  return PrintResult(ctx, resp, [&](std::ostream& out) { PrintHosts(resp, out); });
}

absl::Status DrainHost(CommandContext& ctx, const std::string& host_id, bool drain) {
  v1::DrainHostRequest req;
  req.set_host_id(host_id);
  req.set_drain(drain);
  ASSIGN_OR_RETURN(v1::Host host, ctx.client().Call(&v1::LabController::Stub::DrainHost, req));
  return PrintResult(ctx, host, [&](std::ostream& out) {
    if (host.drained()) {
      out << "host " << host.host_id() << " drained: it keeps its " << host.sandboxes()
          << " sandbox(es) and gets no new ones\n";
    } else {
      out << "host " << host.host_id() << " undrained: it takes new sandboxes again\n";
    }
  });
}

void AddDrainCommand(CLI::App& host, CommandContext& ctx, bool drain) {
  auto host_id = std::make_shared<std::string>();
  CLI::App* cmd = host.add_subcommand(drain ? "drain" : "undrain",
                                      drain ? "keep a host's sandboxes but place no new ones on it"
                                            : "let a drained host take new sandboxes again");
  cmd->add_option("HOST", *host_id, "host id as in `host list`")->required();
  cmd->callback([&ctx, host_id, drain] {
    ctx.SetAction([&ctx, host_id, drain] { return DrainHost(ctx, *host_id, drain); });
  });
}

}  // namespace

void AddHostCommands(CLI::App& root, CommandContext& ctx) {
  CLI::App* host = root.add_subcommand("host", "KVM hosts that run sandboxes");
  host->require_subcommand(1);
  host->add_subcommand("list", "list hosts with health, capacity and sandboxes")->callback([&ctx] {
    ctx.SetAction([&ctx] { return ListHosts(ctx); });
  });
  AddDrainCommand(*host, ctx, true);
  AddDrainCommand(*host, ctx, false);
}

}  // namespace labrack::cli
