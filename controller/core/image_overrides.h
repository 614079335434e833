// Image overrides of a create or a topology apply: a map from an image name that a
// topology's nodes use to the image they run instead (e.g. debian-server -> tiny, so that CI
// builds every level's topology with the tiny image). Pure functions; thread-safe.
#ifndef LABRACK_CONTROLLER_CORE_IMAGE_OVERRIDES_H_
#define LABRACK_CONTROLLER_CORE_IMAGE_OVERRIDES_H_

#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/map.h"
#include "labrack/v1/types.pb.h"

namespace labrack::controller {

using ImageOverrides = google::protobuf::Map<std::string, std::string>;

// `image_overrides["key"]`: how errors name one entry.
std::string OverrideField(const std::string& key);

// `topology` with every node's image replaced by its override. InvalidArgument naming the
// entry and the rule for a key or value that is not a valid image name, or a key that no
// node of `topology` uses. Entries are checked in key order, so the error is the same for
// the same request. Whether the values were imported is the caller's check.
absl::StatusOr<v1::Topology> WithImageOverrides(const v1::Topology& topology,
                                                const ImageOverrides& overrides);

// Whether two override maps hold the same entries.
bool SameOverrides(const ImageOverrides& a, const ImageOverrides& b);
// "{a=b, c=d}" in key order; "{}" when empty.
std::string FormatOverrides(const ImageOverrides& overrides);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CORE_IMAGE_OVERRIDES_H_
