// `labrackctl topology coverage` and `topology graph` run in-process: coverage of local
// files and of the topologies stored in the (fake) controller, as a table and as JSON, and
// drawings written to stdout or to a file.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/exit_codes.h"
#include "cli/testing/cli_fixture.h"
#include "common/topology/topology_yaml.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack::cli::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string TopologyPath(const std::string& name) {
  const char* source_dir = std::getenv("LABRACK_SOURCE_DIR");
  return absl::StrCat(source_dir != nullptr ? source_dir : "../..", "/topologies/", name, ".yaml");
}

TEST_F(CliTest, CoverageOfTheFiveLevelFilesCoversEveryItemWithoutTheController) {
  CliResult r = Run({"topology", "coverage", TopologyPath("junior-ops"), TopologyPath("junior-dev"),
                     TopologyPath("intermediate-ops"), TopologyPath("intermediate-dev"),
                     TopologyPath("senior")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("junior ops: "));
  EXPECT_THAT(r.out, HasSubstr("senior: "));
  EXPECT_THAT(r.out, HasSubstr("junior-ops/storage"));
  EXPECT_THAT(r.out, HasSubstr("uncovered: none"));
  EXPECT_EQ(fake_->calls("ListTopologies"), 0);
}

TEST_F(CliTest, CoverageWithoutFilesReportsTheStoredTopologies) {
  absl::StatusOr<v1::Topology> junior_ops = LoadTopologyFile(TopologyPath("junior-ops"));
  ASSERT_OK(junior_ops);
  fake_->AddTopology(*junior_ops);
  CliResult r = Run({"topology", "coverage"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(fake_->calls("ListTopologies"), 1);
  EXPECT_THAT(r.out, HasSubstr("junior ops: 31 of 31 items covered"));
  std::string uncovered = r.out.substr(r.out.find("uncovered: "));
  EXPECT_THAT(uncovered, HasSubstr("senior.3.3.2"));
  EXPECT_THAT(uncovered, Not(HasSubstr("junior.ops.")));
}

TEST_F(CliTest, CoverageAsJsonListsGroupsAndUncoveredItems) {
  CliResult r = Run({"-o", "json", "topology", "coverage", TopologyPath("senior")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  google::protobuf::Struct json;
  ASSERT_TRUE(ParseJson(r.out, &json)) << r.out;
  EXPECT_EQ(json.fields().at("groups").list_value().values_size(), 5);
  EXPECT_GT(json.fields().at("uncovered").list_value().values_size(), 0);
  EXPECT_THAT(r.out, HasSubstr("\"servedBy\""));
}

TEST_F(CliTest, CoverageOfABadFileNamesTheFile) {
  CliResult r = Run({"topology", "coverage", "/nonexistent/lab.yaml"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/lab.yaml"));
}

TEST_F(CliTest, GraphPrintsDotToStdout) {
  CliResult r = Run({"topology", "graph", TopologyPath("smoke")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("graph \"smoke\" {"));
  EXPECT_THAT(r.out, HasSubstr("\"node:storage\""));
}

TEST_F(CliTest, GraphWritesAPngFile) {
  std::string path = TempDir() + "/senior.png";
  CliResult r =
      Run({"topology", "graph", TopologyPath("senior"), "--format", "png", "--output", path});
  if (r.code == kExitInvalid && r.err.find("graphviz") != std::string::npos) {
    GTEST_SKIP() << r.err;
  }
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EXPECT_EQ(bytes.str().substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(CliTest, GraphRefusesAnUnknownFormat) {
  CliResult r = Run({"topology", "graph", TopologyPath("smoke"), "--format", "gif"});
  EXPECT_EQ(r.code, kExitUsage);
}

}  // namespace
}  // namespace labrack::cli::testing
