// DOT from a topology; see topology_graph.h. Names are validated ([a-z0-9-]) but every
// string is still escaped, so that a description with quotes cannot break the graph.
#include "cli/topology_graph.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/output.h"
#include "cli/subprocess.h"
#include "common/status_macros.h"
#include "common/topology/enum_names.h"

namespace labrack::cli {
namespace {

struct RoleStyle {
  const char* shape;
  const char* style;
  const char* color;
};

RoleStyle StyleOf(v1::NodeRole role) {
  switch (role) {
    case v1::NODE_ROLE_SWITCH:
      return {"box3d", "filled", "#d9ead3"};
    case v1::NODE_ROLE_STORAGE:
      return {"cylinder", "filled", "#fff2cc"};
    case v1::NODE_ROLE_ROUTER:
      return {"octagon", "filled", "#fce5cd"};
    case v1::NODE_ROLE_FIREWALL:
      return {"doubleoctagon", "filled", "#f4cccc"};
    case v1::NODE_ROLE_WORKSTATION:
      return {"box", "rounded,filled", "#d9d2e9"};
    default:
      return {"box", "filled", "#cfe2f3"};
  }
}

// A DOT double-quoted string: quotes and backslashes escaped, line breaks as "\n".
std::string Quote(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) >= 0x20) {
      out += c;
    }
  }
  return out + "\"";
}

std::string NodeLabel(const v1::Node& node) {
  std::vector<std::string> lines = {
      node.name(), absl::StrCat(RoleWord(node.role()), ", ", node.image()),
      absl::StrCat(node.vcpus(), " vCPU, ", FormatMib(node.memory_mib()))};
  if (node.disks_size() > 0) {
    uint64_t mib = 0;
    for (const v1::Disk& disk : node.disks()) mib += disk.size_mib();
    lines.push_back(absl::StrCat(node.disks_size(), node.disks_size() == 1 ? " disk, " : " disks, ",
                                 FormatMib(mib)));
  }
  if (node.covers_size() > 0) {
    lines.push_back(
        absl::StrCat("serves ", node.covers_size(), node.covers_size() == 1 ? " item" : " items"));
  }
  return absl::StrJoin(lines, "\n");
}

void AppendNetworks(const v1::Topology& topology, std::string* dot) {
  for (const v1::Network& net : topology.networks()) {
    std::string label =
        net.cidr().empty() ? net.name() : absl::StrCat(net.name(), "\n", net.cidr());
    absl::StrAppend(dot, "  ", Quote("net:" + net.name()),
                    " [shape=ellipse, style=\"filled,dashed\", fillcolor=\"#eeeeee\", label=",
                    Quote(label), "];\n");
  }
}

void AppendNodes(const v1::Topology& topology, std::string* dot) {
  for (const v1::Node& node : topology.nodes()) {
    RoleStyle style = StyleOf(node.role());
    absl::StrAppend(dot, "  ", Quote("node:" + node.name()), " [shape=", style.shape,
                    ", style=", Quote(style.style), ", fillcolor=", Quote(style.color),
                    ", label=", Quote(NodeLabel(node)), "];\n");
  }
}

// Devices that join segments (switches, routers, firewalls).
bool IsNetworkDevice(v1::NodeRole role) {
  return role == v1::NODE_ROLE_SWITCH || role == v1::NODE_ROLE_ROUTER ||
         role == v1::NODE_ROLE_FIREWALL;
}

// dot ranks the first end of an edge above the second: hosts go above the networks and
// network devices below them, which keeps large topologies two rows high instead of one
// very wide row.
void AppendNics(const v1::Topology& topology, std::string* dot) {
  for (const v1::Node& node : topology.nodes()) {
    std::string vertex = Quote("node:" + node.name());
    for (int i = 0; i < node.nics_size(); ++i) {
      const v1::Nic& nic = node.nics(i);
      std::string net = Quote("net:" + nic.network());
      std::string label = absl::StrCat("nic", i);
      if (!nic.address().empty()) absl::StrAppend(&label, " ", nic.address());
      bool below = IsNetworkDevice(node.role());
      absl::StrAppend(dot, "  ", below ? net : vertex, " -- ", below ? vertex : net,
                      " [label=", Quote(label), "];\n");
    }
  }
}

}  // namespace

absl::StatusOr<GraphFormat> ParseGraphFormat(absl::string_view word) {
  if (word == "dot") return GraphFormat::kDot;
  if (word == "svg") return GraphFormat::kSvg;
  if (word == "png") return GraphFormat::kPng;
  return absl::InvalidArgumentError(
      absl::StrCat("--format \"", word, "\": must be one of dot, svg, png"));
}

std::string TopologyToDot(const v1::Topology& topology) {
  std::string title = topology.name();
  if (!topology.description().empty()) absl::StrAppend(&title, "\n", topology.description());
  std::string dot = absl::StrCat("graph ", Quote(topology.name()), " {\n");
  absl::StrAppend(&dot, "  graph [label=", Quote(title),
                  ", labelloc=t, fontname=\"Helvetica\", overlap=false, splines=true];\n",
                  "  node [fontname=\"Helvetica\", fontsize=10];\n",
                  "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#666666\"];\n");
  AppendNetworks(topology, &dot);
  AppendNodes(topology, &dot);
  AppendNics(topology, &dot);
  return dot + "}\n";
}

absl::StatusOr<std::string> RenderDot(absl::string_view dot, GraphFormat format,
                                      const std::string& dot_binary, absl::Duration timeout) {
  if (format == GraphFormat::kDot) return std::string(dot);
  std::string type = format == GraphFormat::kSvg ? "-Tsvg" : "-Tpng";
  absl::StatusOr<ProcessResult> result = RunProcess({dot_binary, type}, dot, timeout);
  if (absl::IsNotFound(result.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run \"", dot_binary, "\" (graphviz): ", result.status().message(),
                     "; install graphviz (apt-get install graphviz, or deploy/install-deps.sh), "
                     "or use --format dot"));
  }
  RETURN_IF_ERROR(result.status());
  if (result->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(dot_binary, " ", type, " exited with ", result->exit_code, ": ", result->err));
  }
  return std::move(result->out);
}

}  // namespace labrack::cli
