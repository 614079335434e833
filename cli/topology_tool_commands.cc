// coverage reads local files with LoadTopologyFile or, without files, the latest version of
// every topology stored in the controller; graph reads one local file. Both work offline
// when given files.
#include "cli/topology_tool_commands.h"

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/output.h"
#include "cli/topology_coverage.h"
#include "cli/topology_graph.h"
#include "common/status_macros.h"
#include "common/topology/standard_items.h"
#include "common/topology/topology_yaml.h"

namespace labrack::cli {
namespace {

struct CoverageOptions {
  std::vector<std::string> files;
};

struct GraphOptions {
  std::string file;
  std::string format = "dot";
  std::string output;  // empty: stdout
};

// The stored topologies; a record listed without its nodes is fetched whole.
absl::StatusOr<std::vector<v1::Topology>> StoredTopologies(CommandContext& ctx) {
  ASSIGN_OR_RETURN(
      v1::ListTopologiesResponse list,
      ctx.client().Call(&v1::LabController::Stub::ListTopologies, v1::ListTopologiesRequest()));
  std::vector<v1::Topology> topologies;
  for (const v1::TopologyRecord& record : list.topologies()) {
    if (!record.topology().nodes().empty()) {
      topologies.push_back(record.topology());
      continue;
    }
    v1::GetTopologyRequest req;
    req.set_name(record.topology().name());
    ASSIGN_OR_RETURN(v1::TopologyRecord full,
                     ctx.client().Call(&v1::LabController::Stub::GetTopology, req));
    topologies.push_back(full.topology());
  }
  return topologies;
}

absl::Status Coverage(CommandContext& ctx, const CoverageOptions& options) {
  const absl::StatusOr<StandardCatalogue>& catalogue = BuiltInStandardCatalogue();
  if (!catalogue.ok()) return catalogue.status();
  std::vector<v1::Topology> topologies;
  if (options.files.empty()) {
    ASSIGN_OR_RETURN(topologies, StoredTopologies(ctx));
  }
  for (const std::string& file : options.files) {
    ASSIGN_OR_RETURN(topologies.emplace_back(), LoadTopologyFile(file));
  }
  CoverageReport report = ComputeCoverage(*catalogue, topologies);
  return PrintResult(ctx, CoverageToJson(report),
                     [&](std::ostream& out) { PrintCoverage(report, out); });
}

absl::Status WriteOutput(CommandContext& ctx, const std::string& path, const std::string& bytes) {
  if (path.empty() || path == "-") {
    ctx.io().out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ctx.io().out.flush();
    return absl::OkStatus();
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  if (!file)
    return absl::FailedPreconditionError(absl::StrCat("--output ", path, ": cannot write"));
  return absl::OkStatus();
}

absl::Status Graph(CommandContext& ctx, const GraphOptions& options) {
  ASSIGN_OR_RETURN(GraphFormat format, ParseGraphFormat(options.format));
  ASSIGN_OR_RETURN(v1::Topology topology, LoadTopologyFile(options.file));
  ASSIGN_OR_RETURN(std::string bytes, RenderDot(TopologyToDot(topology), format));
  return WriteOutput(ctx, options.output, bytes);
}

}  // namespace

void AddTopologyToolCommands(CLI::App& topology, CommandContext& ctx) {
  auto coverage = std::make_shared<CoverageOptions>();
  CLI::App* cmd = topology.add_subcommand(
      "coverage", "which of the standard's work items the topologies' nodes serve");
  cmd->add_option("FILE", coverage->files,
                  "topology YAML files (default: every topology stored in the controller)");
  cmd->callback(
      [&ctx, coverage] { ctx.SetAction([&ctx, coverage] { return Coverage(ctx, *coverage); }); });

  auto graph = std::make_shared<GraphOptions>();
  cmd = topology.add_subcommand("graph", "draw a topology's nodes and networks (graphviz)");
  cmd->add_option("FILE", graph->file, "topology YAML file")->required();
  cmd->add_option("--format", graph->format, "dot (text), svg or png; default dot")
      ->check(CLI::IsMember({"dot", "svg", "png"}));
  cmd->add_option("--output", graph->output, "file to write (default: stdout)");
  cmd->callback([&ctx, graph] { ctx.SetAction([&ctx, graph] { return Graph(ctx, *graph); }); });
}

}  // namespace labrack::cli
