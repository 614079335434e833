// Tests of ComputeCoverage on the topologies shipped in topologies/: together they serve
// every catalogue item, and a node's removal shows exactly the items only it served.
#include "cli/topology_coverage.h"

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/topology/topology_yaml.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack::cli {
namespace {

using ::testing::HasSubstr;

constexpr const char* kLevelTopologies[] = {"junior-ops", "junior-dev", "intermediate-ops",
                                            "intermediate-dev", "senior"};

std::string TopologyPath(const std::string& name) {
  const char* source_dir = std::getenv("LABRACK_SOURCE_DIR");
  return absl::StrCat(source_dir != nullptr ? source_dir : "../..", "/topologies/", name, ".yaml");
}

std::vector<v1::Topology> LevelTopologies() {
  std::vector<v1::Topology> topologies;
  for (const char* name : kLevelTopologies) {
    absl::StatusOr<v1::Topology> topology = LoadTopologyFile(TopologyPath(name));
    EXPECT_OK(topology);
    if (topology.ok()) topologies.push_back(*topology);
  }
  return topologies;
}

const StandardCatalogue& Catalogue() {
  const absl::StatusOr<StandardCatalogue>& catalogue = BuiltInStandardCatalogue();
  EXPECT_OK(catalogue);
  return *catalogue;
}

absl::flat_hash_set<std::string> UncoveredIds(const CoverageReport& report) {
  absl::flat_hash_set<std::string> ids;
  for (const StandardItem& item : report.uncovered) ids.insert(item.id);
  return ids;
}

TEST(TopologyCoverage, TheFiveLevelTopologiesCoverEveryCatalogueItem) {
  CoverageReport report = ComputeCoverage(Catalogue(), LevelTopologies());
  EXPECT_EQ(report.total_items(), static_cast<int>(Catalogue().items().size()));
  EXPECT_TRUE(report.uncovered.empty()) << report.uncovered.front().id << " is not covered";
  EXPECT_TRUE(report.unknown.empty());
  for (const CoverageGroup& group : report.groups) {
    EXPECT_EQ(group.covered(), static_cast<int>(group.items.size())) << group.name;
  }
}

TEST(TopologyCoverage, RemovingANodeShowsTheItemsOnlyItServedAsUncovered) {
  std::vector<v1::Topology> topologies = LevelTopologies();
  CoverageReport full = ComputeCoverage(Catalogue(), topologies);
  int removals_that_uncover = 0;
  for (size_t t = 0; t < topologies.size(); ++t) {
    for (int n = 0; n < topologies[t].nodes_size(); ++n) {
      NodeRef removed{topologies[t].name(), topologies[t].nodes(n).name()};
      absl::flat_hash_set<std::string> only_there;
      for (const CoverageGroup& group : full.groups) {
        for (const ItemCoverage& item : group.items) {
          if (item.served_by.size() == 1 && item.served_by[0] == removed) {
            only_there.insert(item.item.id);
          }
        }
      }
      std::vector<v1::Topology> without = topologies;
      without[t].mutable_nodes()->DeleteSubrange(n, 1);
      CoverageReport report = ComputeCoverage(Catalogue(), without);
      EXPECT_EQ(UncoveredIds(report), only_there) << "without " << removed.ToString();
      if (!only_there.empty()) ++removals_that_uncover;
    }
  }
  EXPECT_GT(removals_that_uncover, 0) << "every item is served twice: the test proves nothing";
}

TEST(TopologyCoverage, WithoutTheRaidStorageNodeTheRaidItemIsUncovered) {
  std::vector<v1::Topology> topologies = LevelTopologies();
  v1::Topology& junior_ops = topologies[0];
  ASSERT_EQ(junior_ops.name(), "junior-ops");
  for (int n = 0; n < junior_ops.nodes_size(); ++n) {
    if (junior_ops.nodes(n).role() == v1::NODE_ROLE_STORAGE) {
      junior_ops.mutable_nodes()->DeleteSubrange(n--, 1);
    }
  }
  CoverageReport report = ComputeCoverage(Catalogue(), topologies);
  EXPECT_TRUE(UncoveredIds(report).contains("junior.ops.3.3.1"));
  std::ostringstream out;
  PrintCoverage(report, out);
  EXPECT_THAT(out.str(), HasSubstr("uncovered: "));
  EXPECT_THAT(out.str().substr(out.str().find("uncovered: ")), HasSubstr("junior.ops.3.3.1"));
}

TEST(TopologyCoverage, ListsEveryServingNodeAndReportsIdsTheCatalogueDoesNotKnow) {
  v1::Topology topology;
  topology.set_name("lab");
  v1::Node* a = topology.add_nodes();
  a->set_name("a");
  a->add_covers("senior.3.3.1");
  a->add_covers("senior.99.1");
  v1::Node* b = topology.add_nodes();
  b->set_name("b");
  b->add_covers("senior.3.3.1");
  CoverageReport report = ComputeCoverage(Catalogue(), {topology});
  const ItemCoverage* ha = nullptr;
  for (const CoverageGroup& group : report.groups) {
    for (const ItemCoverage& item : group.items) {
      if (item.item.id == "senior.3.3.1") ha = &item;
    }
  }
  ASSERT_NE(ha, nullptr);
  EXPECT_EQ(ha->served_by, (std::vector<NodeRef>{{"lab", "a"}, {"lab", "b"}}));
  ASSERT_EQ(report.unknown.size(), 1u);
  EXPECT_EQ(report.unknown[0].first.ToString(), "lab/a");
  EXPECT_EQ(report.unknown[0].second, "senior.99.1");
  EXPECT_EQ(report.uncovered.size(), Catalogue().items().size() - 1);
}

TEST(TopologyCoverage, JsonHasTheGroupsItemsNodesAndUncoveredItems) {
  CoverageReport report = ComputeCoverage(Catalogue(), LevelTopologies());
  google::protobuf::Struct json = CoverageToJson(report);
  const auto& groups = json.fields().at("groups").list_value();
  ASSERT_EQ(groups.values_size(), static_cast<int>(report.groups.size()));
  const auto& first = groups.values(0).struct_value().fields();
  EXPECT_EQ(first.at("name").string_value(), report.groups[0].name);
  EXPECT_EQ(first.at("total").number_value(), report.groups[0].items.size());
  const auto& item = first.at("items").list_value().values(0).struct_value().fields();
  EXPECT_EQ(item.at("id").string_value(), report.groups[0].items[0].item.id);
  EXPECT_EQ(item.at("servedBy").list_value().values_size(),
            static_cast<int>(report.groups[0].items[0].served_by.size()));
  EXPECT_EQ(json.fields().at("uncovered").list_value().values_size(), 0);
}

}  // namespace
}  // namespace labrack::cli
