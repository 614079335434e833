// Topologies in YAML (the format of topologies/*.yaml) read into the Topology proto and
// validated, with errors that name the file, the line, the field and the rule.
// Pure functions; thread-safe.
#ifndef LABRACK_COMMON_TOPOLOGY_TOPOLOGY_YAML_H_
#define LABRACK_COMMON_TOPOLOGY_TOPOLOGY_YAML_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "labrack/v1/types.pb.h"

namespace labrack {

// Defaults for node fields the YAML leaves out.
inline constexpr uint32_t kDefaultVcpus = 1;
inline constexpr uint32_t kDefaultMemoryMib = 128;

// Parses and validates (ValidateTopology) a topology; `source_name` names the text in
// errors. Leaves empty addresses empty: see WithAssignedAddresses. InvalidArgument
// "source:line: field: rule" for malformed YAML, unknown keys, values of the wrong type and
// topologies that break a rule.
absl::StatusOr<v1::Topology> ParseTopologyYaml(absl::string_view yaml_text,
                                               absl::string_view source_name);

// ParseTopologyYaml on the file at `path`, named by `path` in errors. NotFound if the file
// cannot be read.
absl::StatusOr<v1::Topology> LoadTopologyFile(const std::string& path);

}  // namespace labrack

#endif  // LABRACK_COMMON_TOPOLOGY_TOPOLOGY_YAML_H_
