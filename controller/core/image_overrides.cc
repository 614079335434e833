#include "controller/core/image_overrides.h"

#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/names.h"
#include "common/status_macros.h"

namespace labrack::controller {
namespace {

std::map<std::string, std::string> Sorted(const ImageOverrides& overrides) {
  return {overrides.begin(), overrides.end()};
}

absl::Status CheckEntry(const std::string& key, const std::string& value,
                        const std::set<std::string>& used, const std::string& topology) {
  const std::string field = OverrideField(key);
  RETURN_IF_ERROR(ValidateImageName(absl::StrCat(field, " key"), key));
  RETURN_IF_ERROR(ValidateImageName(field, value));
  if (used.count(key) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": no node of topology '", topology,
                                                   "' uses image '", key, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string OverrideField(const std::string& key) {
  return absl::StrCat("image_overrides[\"", absl::CHexEscape(key.substr(0, 80)), "\"]");
}

absl::StatusOr<v1::Topology> WithImageOverrides(const v1::Topology& topology,
                                                const ImageOverrides& overrides) {
  std::set<std::string> used;
  for (const v1::Node& node : topology.nodes()) used.insert(node.image());
  const std::map<std::string, std::string> sorted = Sorted(overrides);
  for (const auto& [key, value] : sorted) {
    RETURN_IF_ERROR(CheckEntry(key, value, used, topology.name()));
  }
  v1::Topology replaced = topology;
  for (v1::Node& node : *replaced.mutable_nodes()) {
    auto it = sorted.find(node.image());
    if (it != sorted.end()) node.set_image(it->second);
  }
  return replaced;
}

bool SameOverrides(const ImageOverrides& a, const ImageOverrides& b) {
  return Sorted(a) == Sorted(b);
}

std::string FormatOverrides(const ImageOverrides& overrides) {
  return absl::StrCat("{", absl::StrJoin(Sorted(overrides), ", ", absl::PairFormatter("=")), "}");
}

}  // namespace labrack::controller
