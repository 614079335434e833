// Topology commands. apply and validate read the YAML with LoadTopologyFile (the format of
// topologies/*.yaml) and send the parsed proto; addresses are left for the controller to
// assign, as it does for topologies that arrive over gRPC.
#include "cli/topology_commands.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/topology_tool_commands.h"
#include "common/status_macros.h"
#include "common/topology/enum_names.h"
#include "common/topology/topology_yaml.h"

namespace labrack::cli {
namespace {

struct TopologyOptions {
  std::string file;
  std::string name;
  uint64_t version = 0;
  std::vector<std::string> image_overrides;  // apply
};

absl::Status Apply(CommandContext& ctx, const TopologyOptions& options) {
  v1::ApplyTopologyRequest req;
  ASSIGN_OR_RETURN(*req.mutable_topology(), LoadTopologyFile(options.file));
  for (const auto& [name, other] : ImageOverrideMap(options.image_overrides)) {
    (*req.mutable_image_overrides())[name] = other;
  }
  ASSIGN_OR_RETURN(v1::TopologyRecord record,
                   ctx.client().Call(&v1::LabController::Stub::ApplyTopology, req));
  return PrintResult(ctx, record, [&](std::ostream& out) {
    out << "topology " << record.topology().name() << " applied: version " << record.version()
        << " (sha256 " << record.sha256().substr(0, 12) << ")\n";
  });
}

absl::Status Validate(CommandContext& ctx, const std::string& file) {
  v1::ValidateTopologyRequest req;
  ASSIGN_OR_RETURN(*req.mutable_topology(), LoadTopologyFile(file));
  ASSIGN_OR_RETURN(v1::ValidateTopologyResponse resp,
                   ctx.client().Call(&v1::LabController::Stub::ValidateTopology, req));
  return PrintResult(ctx, resp, [&](std::ostream& out) {
    out << "topology " << req.topology().name() << " is valid\n";
    out << "needs per sandbox: " << FormatCapacity(resp.needs()) << "\n";
    if (resp.fitting_hosts().empty()) {
      out << "fitting hosts: none can take one now\n";
    } else {
      out << "fitting hosts: " << absl::StrJoin(resp.fitting_hosts(), ", ") << "\n";
    }
  });
}

void PrintTopologies(const v1::ListTopologiesResponse& resp, std::ostream& out) {
  Table table({"NAME", "VERSION", "NODES", "NETWORKS", "SHA256", "APPLIED", "DESCRIPTION"});
  absl::Time now = absl::Now();
  for (const v1::TopologyRecord& r : resp.topologies()) {
    table.AddRow({r.topology().name(), absl::StrCat(r.version()),
                  absl::StrCat(r.topology().nodes_size()),
                  absl::StrCat(r.topology().networks_size()), r.sha256().substr(0, 12),
                  FormatAge(r.applied_at(), now), r.topology().description()});
  }
  table.Print(out);
}

absl::Status List(CommandContext& ctx) {
  ASSIGN_OR_RETURN(
      v1::ListTopologiesResponse resp,
      ctx.client().Call(&v1::LabController::Stub::ListTopologies, v1::ListTopologiesRequest()));
  return PrintResult(ctx, resp, [&](std::ostream& out) { PrintTopologies(resp, out); });
}

std::string Nics(const v1::Node& node) {
  std::vector<std::string> nics;
  for (const v1::Nic& nic : node.nics()) {
    nics.push_back(nic.address().empty() ? nic.network() : nic.network() + " " + nic.address());
  }
  return absl::StrJoin(nics, ", ");
}

std::string Disks(const v1::Node& node) {
  std::vector<std::string> disks;
  for (const v1::Disk& d : node.disks()) disks.push_back(d.name() + " " + FormatMib(d.size_mib()));
  return absl::StrJoin(disks, ", ");
}

void PrintTopology(const v1::TopologyRecord& r, std::ostream& out) {
  const v1::Topology& t = r.topology();
  out << "Name:         " << t.name() << "\n"
      << "Version:      " << r.version() << "\n"
      << "SHA256:       " << r.sha256() << "\n"
      << "Applied:      " << FormatTime(r.applied_at(), absl::Now()) << "\n"
      << "Description:  " << (t.description().empty() ? "-" : t.description()) << "\n\n";
  Table nodes({"NODE", "ROLE", "IMAGE", "VCPUS", "MEMORY", "NICS", "DISKS"});
  for (const v1::Node& n : t.nodes()) {
    nodes.AddRow({n.name(), RoleWord(n.role()), n.image(), absl::StrCat(n.vcpus()),
                  FormatMib(n.memory_mib()), Nics(n), Disks(n)});
  }
  nodes.Print(out);
  if (t.networks().empty()) return;
  out << "\n";
  Table networks({"NETWORK", "CIDR"});
  for (const v1::Network& n : t.networks()) networks.AddRow({n.name(), n.cidr()});
  networks.Print(out);
}

absl::Status Show(CommandContext& ctx, const TopologyOptions& options) {
  v1::GetTopologyRequest req;
  req.set_name(options.name);
  req.set_version(options.version);
  ASSIGN_OR_RETURN(v1::TopologyRecord record,
                   ctx.client().Call(&v1::LabController::Stub::GetTopology, req));
  return PrintResult(ctx, record, [&](std::ostream& out) { PrintTopology(record, out); });
}

void AddFileCommand(CLI::App& group, CommandContext& ctx, const std::string& name,
                    const std::string& description,
                    absl::Status (*run)(CommandContext&, const std::string&)) {
  auto file = std::make_shared<std::string>();
  CLI::App* cmd = group.add_subcommand(name, description);
  cmd->add_option("FILE", *file, "topology YAML file (see topologies/smoke.yaml)")->required();
  cmd->callback(
      [&ctx, file, run] { ctx.SetAction([&ctx, file, run] { return run(ctx, *file); }); });
}

void AddApply(CLI::App& group, CommandContext& ctx) {
  auto o = std::make_shared<TopologyOptions>();
  CLI::App* cmd = group.add_subcommand("apply", "store a topology (a new version when it changed)");
  cmd->add_option("FILE", o->file, "topology YAML file (see topologies/smoke.yaml)")->required();
  AddImageOverrideOption(*cmd, &o->image_overrides,
                         "store the nodes whose image is NAME with image OTHER instead, e.g. "
                         "debian-server=tiny (repeatable)");
  cmd->callback([&ctx, o] { ctx.SetAction([&ctx, o] { return Apply(ctx, *o); }); });
}

}  // namespace

void AddTopologyCommands(CLI::App& root, CommandContext& ctx) {
  CLI::App* topology = root.add_subcommand("topology", "lab topologies: nodes and networks");
  topology->require_subcommand(1);
  AddApply(*topology, ctx);
  AddFileCommand(*topology, ctx, "validate",
                 "check a topology and show what it needs and which hosts fit it", &Validate);
  topology->add_subcommand("list", "list stored topologies")->callback([&ctx] {
    ctx.SetAction([&ctx] { return List(ctx); });
  });
  auto show = std::make_shared<TopologyOptions>();
  CLI::App* cmd = topology->add_subcommand("show", "show a stored topology");
  cmd->add_option("NAME", show->name, "topology name")->required();
  cmd->add_option("--version", show->version, "a stored version (default: the latest)");
  cmd->callback([&ctx, show] { ctx.SetAction([&ctx, show] { return Show(ctx, *show); }); });
  AddTopologyToolCommands(*topology, ctx);
}

}  // namespace labrack::cli
