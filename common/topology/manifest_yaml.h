// Image manifests (manifest.yaml, written by images/build.sh beside an image's artifacts):
// reading from YAML with errors that name the line, the field and the rule; validation of
// the proto, also for manifests that arrive over gRPC; writing back to YAML.
// Pure functions; thread-safe.
#ifndef LABRACK_COMMON_TOPOLOGY_MANIFEST_YAML_H_
#define LABRACK_COMMON_TOPOLOGY_MANIFEST_YAML_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "labrack/v1/types.pb.h"

namespace labrack {

// Parses and validates (ValidateImageManifest) a manifest; `source_name` names the text in
// errors. InvalidArgument "source:line: field: rule" for malformed YAML, unknown keys,
// values of the wrong type and manifests that break a rule.
absl::StatusOr<v1::ImageManifest> ParseImageManifestYaml(absl::string_view yaml_text,
                                                         absl::string_view source_name);

// ParseImageManifestYaml on the file at `path`, named by `path` in errors. NotFound if the
// file cannot be read.
absl::StatusOr<v1::ImageManifest> LoadImageManifestFile(const std::string& path);

// OK, or InvalidArgument whose message starts with the path of the offending field
// ("artifacts[1].sha256 ...") and states the rule.
absl::Status ValidateImageManifest(const v1::ImageManifest& manifest);

// The manifest in the YAML format ParseImageManifestYaml reads; fields left at their proto
// default are left out.
std::string ImageManifestToYaml(const v1::ImageManifest& manifest);

}  // namespace labrack

#endif  // LABRACK_COMMON_TOPOLOGY_MANIFEST_YAML_H_
