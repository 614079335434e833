// Tests of the work-item catalogue: the copy compiled in from topologies/standard-items.yaml
// is valid and matches the file in the repository, and broken catalogues are refused with
// the line, the field and the rule.
#include "common/topology/standard_items.h"

#include <cstdlib>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "common/topology/yaml_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string RepoCataloguePath() {
  const char* source_dir = std::getenv("LABRACK_SOURCE_DIR");
  return std::string(source_dir != nullptr ? source_dir : "../..") +
         "/topologies/standard-items.yaml";
}

constexpr char kTwoItems[] = R"(
items:
  - id: junior.ops.3.3.1
    level: junior
    direction: ops
    description: "Build a RAID array"
  - id: senior.3.3.2
    level: senior
    description: "Remote disaster recovery"
)";

TEST(BuiltInStandardCatalogue, IsValidAndTheSameAsTheFileInTheRepository) {
  ASSERT_OK(BuiltInStandardCatalogue());
  absl::StatusOr<std::string> file = ReadYamlFile(RepoCataloguePath());
  ASSERT_OK(file);
  EXPECT_EQ(BuiltInStandardCatalogueYaml(), *file)
      << "the binary's catalogue is stale: rebuild labrack_topology";
}

TEST(BuiltInStandardCatalogue, HasEveryLevelAndDirectionOfTheStandard) {
  ASSERT_OK(BuiltInStandardCatalogue());
  absl::flat_hash_set<std::string> groups;
  for (const StandardItem& item : BuiltInStandardCatalogue()->items()) groups.insert(item.Group());
  EXPECT_EQ(groups,
            (absl::flat_hash_set<std::string>{"junior ops", "junior dev", "intermediate ops",
                                              "intermediate dev", "senior"}));
}

TEST(BuiltInStandardCatalogue, FindsItemsByIdAndNothingElse) {
  ASSERT_OK(BuiltInStandardCatalogue());
  const StandardItem* raid = BuiltInStandardCatalogue()->Find("junior.ops.3.3.1");
  ASSERT_NE(raid, nullptr);
  EXPECT_EQ(raid->level, "junior");
  EXPECT_EQ(raid->direction, "ops");
  EXPECT_FALSE(raid->description.empty());
  EXPECT_EQ(BuiltInStandardCatalogue()->Find("junior.ops"), nullptr);
  EXPECT_EQ(BuiltInStandardCatalogue()->Find("junior.ops.9.9.9"), nullptr);
}

TEST(ParseStandardCatalogue, ReadsLevelDirectionAndDescriptionInFileOrder) {
  absl::StatusOr<StandardCatalogue> catalogue = ParseStandardCatalogue(kTwoItems, "items.yaml");
  ASSERT_OK(catalogue);
  ASSERT_EQ(catalogue->items().size(), 2u);
  EXPECT_EQ(catalogue->items()[0].id, "junior.ops.3.3.1");
  EXPECT_EQ(catalogue->items()[0].Group(), "junior ops");
  EXPECT_EQ(catalogue->items()[1].direction, "");
  EXPECT_EQ(catalogue->items()[1].Group(), "senior");
  EXPECT_EQ(catalogue->items()[1].description, "Remote disaster recovery");
}

TEST(ParseStandardCatalogue, RefusesADuplicateIdNamingBothEntriesAndTheLine) {
  std::string text = std::string(kTwoItems) + R"(  - id: junior.ops.3.3.1
    level: junior
    direction: ops
    description: "again"
)";
  EXPECT_THAT(ParseStandardCatalogue(text, "items.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("items.yaml:10: items[2].id"),
                             HasSubstr("duplicate id \"junior.ops.3.3.1\" (also items[0])"))));
}

TEST(ParseStandardCatalogue, RefusesAnIdThatDoesNotMatchItsLevelAndDirection) {
  constexpr char kWrongDirection[] = R"(
items:
  - id: junior.dev.3.3.1
    level: junior
    direction: ops
    description: "x"
)";
  EXPECT_THAT(ParseStandardCatalogue(kWrongDirection, "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("c.yaml:3: items[0]"),
                             HasSubstr("must be junior.ops.<item number>"))));
  constexpr char kNoNumber[] = R"(
items:
  - {id: senior.x, level: senior, description: "x"}
)";
  EXPECT_THAT(ParseStandardCatalogue(kNoNumber, "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be senior.<item")));
}

TEST(ParseStandardCatalogue, RefusesUnknownLevelsDirectionsAndSeniorDirections) {
  EXPECT_THAT(
      ParseStandardCatalogue(
          "items: [{id: expert.ops.1.1, level: expert, direction: ops, description: x}]", "c.yaml"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("level \"expert\" must be junior, intermediate or senior")));
  EXPECT_THAT(
      ParseStandardCatalogue(
          "items: [{id: junior.qa.1.1, level: junior, direction: qa, description: x}]", "c.yaml"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("direction \"qa\" must be ops or dev")));
  EXPECT_THAT(
      ParseStandardCatalogue(
          "items: [{id: senior.1.1, level: senior, direction: ops, description: x}]", "c.yaml"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("senior items have no direction")));
}

TEST(ParseStandardCatalogue, RefusesEmptyDescriptionsUnknownKeysAndEmptyLists) {
  EXPECT_THAT(
      ParseStandardCatalogue("items: [{id: senior.1.1, level: senior, description: \"  \"}]",
                             "c.yaml"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("description must not be empty")));
  EXPECT_THAT(ParseStandardCatalogue(
                  "items: [{id: senior.1.1, level: senior, description: x, hours: 3}]", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("items[0].hours"), HasSubstr("unknown key"))));
  EXPECT_THAT(ParseStandardCatalogue("items: [{id: senior.1.1, level: senior}]", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("missing required key \"description\"")));
  EXPECT_THAT(ParseStandardCatalogue("items: []", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least one item")));
}

}  // namespace
}  // namespace labrack
