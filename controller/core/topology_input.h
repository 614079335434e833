// The topology of an ApplyTopology or ValidateTopology request, which a client gives either
// as a proto or as the YAML text of a topologies/*.yaml file. The YAML is read by the parser
// labrackctl uses, so its errors are the same. Pure functions; thread-safe.
#ifndef LABRACK_CONTROLLER_CORE_TOPOLOGY_INPUT_H_
#define LABRACK_CONTROLLER_CORE_TOPOLOGY_INPUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

// The file name YAML errors are reported against when a request names none.
inline constexpr char kDefaultTopologyFile[] = "topology.yaml";

// The request's topology: `topology` as it is, or `topology_yaml` parsed and validated.
// InvalidArgument naming both fields unless exactly one is given; InvalidArgument
// "<topology_file or topology.yaml>:line: field: rule" for YAML that does not parse or
// breaks a rule.
absl::StatusOr<v1::Topology> TopologyOf(const v1::ApplyTopologyRequest& request);
absl::StatusOr<v1::Topology> TopologyOf(const v1::ValidateTopologyRequest& request);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CORE_TOPOLOGY_INPUT_H_
