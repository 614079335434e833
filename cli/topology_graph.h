// Drawings of a topology for trainers: Graphviz DOT text (nodes shaped by role, networks as
// their own vertices, one edge per NIC), rendered to SVG or PNG by graphviz's `dot`.
// TopologyToDot is pure; RenderDot runs a child process. Both are thread-compatible.
#ifndef LABRACK_CLI_TOPOLOGY_GRAPH_H_
#define LABRACK_CLI_TOPOLOGY_GRAPH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "labrack/v1/types.pb.h"

namespace labrack::cli {

enum class GraphFormat { kDot, kSvg, kPng };

// "dot", "svg" or "png". InvalidArgument naming --format otherwise.
absl::StatusOr<GraphFormat> ParseGraphFormat(absl::string_view word);

// An undirected DOT graph: vertex "node:<name>" per node (shape by role; label with name,
// role, image, size, disk count and size, number of catalogue items served), vertex
// "net:<name>" per network (label with its cidr), an edge per NIC labelled nic<i> and its
// address when given. Hosts rank above the networks and switches, routers and firewalls
// below them, so that large topologies stay readable.
std::string TopologyToDot(const v1::Topology& topology);

// The bytes `dot_binary -T<format>` prints for `dot` (kSvg or kPng; kDot returns `dot`
// unchanged without running anything). FailedPrecondition when `dot_binary` is not found
// (graphviz is not installed); Internal with dot's error output when it fails;
// DeadlineExceeded when it runs longer than `timeout` (it is killed).
absl::StatusOr<std::string> RenderDot(absl::string_view dot, GraphFormat format,
                                      const std::string& dot_binary = "dot",
                                      absl::Duration timeout = absl::Seconds(60));

}  // namespace labrack::cli

#endif  // LABRACK_CLI_TOPOLOGY_GRAPH_H_
