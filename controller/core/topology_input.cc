#include "controller/core/topology_input.h"

#include "absl/strings/str_cat.h"
#include "common/topology/topology_yaml.h"
#include "common/topology/yaml_reader.h"

namespace labrack::controller {
namespace {

absl::StatusOr<v1::Topology> FromEither(bool has_topology, const v1::Topology& topology,
                                        const std::string& yaml, const std::string& file) {
  if (has_topology == !yaml.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("topology, topology_yaml: give exactly one (",
                     has_topology ? "both were given" : "neither was given", ")"));
  }
  if (has_topology) return topology;
  if (yaml.size() > kMaxYamlFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("topology_yaml: at most ", kMaxYamlFileBytes, " bytes, not ", yaml.size()));
  }
  return ParseTopologyYaml(yaml, file.empty() ? kDefaultTopologyFile : file);
}

}  // namespace

absl::StatusOr<v1::Topology> TopologyOf(const v1::ApplyTopologyRequest& request) {
  return FromEither(request.has_topology(), request.topology(), request.topology_yaml(),
                    request.topology_file());
}

absl::StatusOr<v1::Topology> TopologyOf(const v1::ValidateTopologyRequest& request) {
  return FromEither(request.has_topology(), request.topology(), request.topology_yaml(),
                    request.topology_file());
}

}  // namespace labrack::controller
