// Tests of topology drawings: the DOT names every node and network of the shipped
// topologies with one edge per NIC, and graphviz turns it into a valid PNG.
#include "cli/topology_graph.h"

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/topology/topology_yaml.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack::cli {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

std::string TopologyPath(const std::string& name) {
  const char* source_dir = std::getenv("LABRACK_SOURCE_DIR");
  return absl::StrCat(source_dir != nullptr ? source_dir : "../..", "/topologies/", name, ".yaml");
}

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

uint32_t BigEndian32(const std::string& bytes, size_t at) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

class ShippedTopologyGraph : public ::testing::TestWithParam<const char*> {};

TEST_P(ShippedTopologyGraph, DotNamesEveryNodeAndNetworkWithAnEdgePerNic) {
  absl::StatusOr<v1::Topology> topology = LoadTopologyFile(TopologyPath(GetParam()));
  ASSERT_OK(topology);
  std::string dot = TopologyToDot(*topology);
  EXPECT_TRUE(absl::StartsWith(dot, absl::StrCat("graph \"", topology->name(), "\" {")));
  int nics = 0;
  for (const v1::Node& node : topology->nodes()) {
    EXPECT_THAT(dot, HasSubstr(absl::StrCat("\"node:", node.name(), "\" [")));
    nics += node.nics_size();
  }
  for (const v1::Network& net : topology->networks()) {
    EXPECT_THAT(dot, HasSubstr(absl::StrCat("\"net:", net.name(), "\" [")));
  }
  EXPECT_EQ(Count(dot, " -- "), nics);
}

INSTANTIATE_TEST_SUITE_P(All, ShippedTopologyGraph,
                         ::testing::Values("smoke", "junior-ops", "junior-dev", "intermediate-ops",
                                           "intermediate-dev", "senior"));

TEST(TopologyGraph, ShapesNodesByRoleAndCountsDisksInTheLabel) {
  absl::StatusOr<v1::Topology> smoke = LoadTopologyFile(TopologyPath("smoke"));
  ASSERT_OK(smoke);
  std::string dot = TopologyToDot(*smoke);
  EXPECT_THAT(dot, HasSubstr("\"node:storage\" [shape=cylinder"));
  EXPECT_THAT(dot, HasSubstr("\"node:switch\" [shape=box3d"));
  EXPECT_THAT(dot, HasSubstr("\"node:server\" [shape=box,"));
  EXPECT_THAT(dot, HasSubstr("4 disks, 4.0 GiB"));
}

TEST(TopologyGraph, EscapesQuotesAndBackslashesInTheDescription) {
  v1::Topology topology;
  topology.set_name("lab");
  topology.set_description("a \"quoted\" \\ lab");
  EXPECT_THAT(TopologyToDot(topology), HasSubstr("lab\\na \\\"quoted\\\" \\\\ lab"));
}

TEST(TopologyGraph, PngFromGraphvizIsAValidImage) {
  absl::StatusOr<v1::Topology> senior = LoadTopologyFile(TopologyPath("senior"));
  ASSERT_OK(senior);
  absl::StatusOr<std::string> png = RenderDot(TopologyToDot(*senior), GraphFormat::kPng);
  if (absl::IsFailedPrecondition(png.status())) GTEST_SKIP() << png.status();
  ASSERT_OK(png);
  ASSERT_GE(png->size(), 24u);
  EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(BigEndian32(*png, 8), 13u);  // IHDR's length
  EXPECT_EQ(png->substr(12, 4), "IHDR");
  EXPECT_GT(BigEndian32(*png, 16), 0u);  // width
  EXPECT_GT(BigEndian32(*png, 20), 0u);  // height
}

TEST(TopologyGraph, SvgFromGraphvizIsAnSvgDocument) {
  absl::StatusOr<v1::Topology> smoke = LoadTopologyFile(TopologyPath("smoke"));
  ASSERT_OK(smoke);
  absl::StatusOr<std::string> svg = RenderDot(TopologyToDot(*smoke), GraphFormat::kSvg);
  if (absl::IsFailedPrecondition(svg.status())) GTEST_SKIP() << svg.status();
  ASSERT_OK(svg);
  EXPECT_THAT(*svg, HasSubstr("<svg"));
  EXPECT_THAT(*svg, HasSubstr("storage"));
}

TEST(TopologyGraph, MissingGraphvizIsAClearFailedPrecondition) {
  EXPECT_THAT(RenderDot("graph g {}", GraphFormat::kPng, "labrack-test-no-such-dot"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("install graphviz")));
}

TEST(TopologyGraph, DotFormatNeedsNoGraphviz) {
  EXPECT_THAT(RenderDot("graph g {}", GraphFormat::kDot, "labrack-test-no-such-dot"),
              ::labrack::testing::IsOkAndHolds(std::string("graph g {}")));
}

TEST(TopologyGraph, RefusesUnknownFormats) {
  EXPECT_OK(ParseGraphFormat("png"));
  EXPECT_THAT(ParseGraphFormat("jpeg"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--format \"jpeg\"")));
}

}  // namespace
}  // namespace labrack::cli
