// The topologies shipped in topologies/: each loads and validates as it is and with the
// `tiny` image in place of every image (as CI provisions them), and each names the
// catalogue items it serves.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/topology/standard_items.h"
#include "common/topology/topology_validate.h"
#include "common/topology/topology_yaml.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack {
namespace {

std::string TopologyPath(const std::string& name) {
  const char* source_dir = std::getenv("LABRACK_SOURCE_DIR");
  return absl::StrCat(source_dir != nullptr ? source_dir : "../..", "/topologies/", name, ".yaml");
}

class RepoTopology : public ::testing::TestWithParam<const char*> {};

TEST_P(RepoTopology, LoadsValidatesAndGetsAddresses) {
  absl::StatusOr<v1::Topology> topology = LoadTopologyFile(TopologyPath(GetParam()));
  ASSERT_OK(topology);
  EXPECT_EQ(topology->name(), GetParam());
  EXPECT_FALSE(topology->description().empty());
  EXPECT_OK(WithAssignedAddresses(*topology));
}

TEST_P(RepoTopology, StaysValidWithTheTinyImageInPlaceOfEveryImage) {
  absl::StatusOr<v1::Topology> topology = LoadTopologyFile(TopologyPath(GetParam()));
  ASSERT_OK(topology);
  for (v1::Node& node : *topology->mutable_nodes()) node.set_image("tiny");
  EXPECT_OK(ValidateTopology(*topology));
}

INSTANTIATE_TEST_SUITE_P(AllShipped, RepoTopology,
                         ::testing::Values("smoke", "junior-ops", "junior-dev", "intermediate-ops",
                                           "intermediate-dev", "senior"));

class LevelTopology : public ::testing::TestWithParam<const char*> {};

TEST_P(LevelTopology, EveryNodeServesCatalogueItemsOfItsOwnLevel) {
  absl::StatusOr<v1::Topology> topology = LoadTopologyFile(TopologyPath(GetParam()));
  ASSERT_OK(topology);
  ASSERT_OK(BuiltInStandardCatalogue());
  // "junior-ops" serves junior.ops.* items, "senior" serves senior.*.
  std::string prefix = topology->name();
  std::replace(prefix.begin(), prefix.end(), '-', '.');
  for (const v1::Node& node : topology->nodes()) {
    EXPECT_FALSE(node.covers().empty()) << node.name() << " serves no catalogue item";
    for (const std::string& id : node.covers()) {
      EXPECT_THAT(id, ::testing::StartsWith(prefix + ".")) << node.name();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, LevelTopology,
                         ::testing::Values("junior-ops", "junior-dev", "intermediate-ops",
                                           "intermediate-dev", "senior"));

}  // namespace
}  // namespace labrack
