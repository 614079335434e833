// Tests of reading topology YAML: the smoke topology in the repository, and refusals that
// name the file, the line, the field and the rule so that an author can fix the file.
#include "common/topology/topology_yaml.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/topology/standard_items.h"
#include "common/topology/topology_validate.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string SmokePath() {
  const char* source_dir = std::getenv("LABRACK_SOURCE_DIR");
  return std::string(source_dir != nullptr ? source_dir : "../..") + "/topologies/smoke.yaml";
}

std::vector<std::string> Addresses(const v1::Topology& topology) {
  std::vector<std::string> out;
  for (const v1::Node& node : topology.nodes()) {
    for (const v1::Nic& nic : node.nics()) out.push_back(node.name() + ":" + nic.address());
  }
  return out;
}

TEST(SmokeTopology, HasAServerASwitchAndAStorageNodeOnTwoNetworks) {
  absl::StatusOr<v1::Topology> smoke = LoadTopologyFile(SmokePath());
  ASSERT_OK(smoke);
  EXPECT_EQ(smoke->name(), "smoke");
  ASSERT_EQ(smoke->networks_size(), 2);
  EXPECT_EQ(smoke->networks(0).cidr(), "10.10.0.0/24");
  EXPECT_EQ(smoke->networks(1).cidr(), "10.10.1.0/24");
  ASSERT_EQ(smoke->nodes_size(), 3);
  const v1::Node& server = smoke->nodes(0);
  const v1::Node& sw = smoke->nodes(1);
  const v1::Node& storage = smoke->nodes(2);
  EXPECT_EQ(server.role(), v1::NODE_ROLE_SERVER);
  EXPECT_EQ(sw.role(), v1::NODE_ROLE_SWITCH);
  EXPECT_EQ(storage.role(), v1::NODE_ROLE_STORAGE);
  EXPECT_EQ(server.nics_size(), 2);
  EXPECT_EQ(sw.nics_size(), 3);
  EXPECT_EQ(storage.nics_size(), 1);
  ASSERT_EQ(storage.disks_size(), 4);
  for (const v1::Disk& disk : storage.disks()) EXPECT_EQ(disk.size_mib(), 1024u);
  for (const v1::Node& node : smoke->nodes()) {
    EXPECT_EQ(node.image(), "tiny");
    EXPECT_EQ(node.vcpus(), 1u);
    EXPECT_EQ(node.memory_mib(), 128u);
    for (const v1::Nic& nic : node.nics()) EXPECT_EQ(nic.address(), "") << "left to assignment";
  }
}

TEST(SmokeTopology, GetsUniqueAddressesInNodeOrder) {
  absl::StatusOr<v1::Topology> smoke = LoadTopologyFile(SmokePath());
  ASSERT_OK(smoke);
  absl::StatusOr<v1::Topology> assigned = WithAssignedAddresses(*smoke);
  ASSERT_OK(assigned);
  std::vector<std::string> addresses = Addresses(*assigned);
  EXPECT_THAT(addresses,
              ElementsAre("server:10.10.0.1/24", "server:10.10.1.1/24", "switch:10.10.0.2/24",
                          "switch:10.10.1.2/24", "switch:10.10.1.3/24", "storage:10.10.1.4/24"));
  EXPECT_EQ(absl::flat_hash_set<std::string>(addresses.begin(), addresses.end()).size(),
            addresses.size());
}

TEST(TopologyYaml, DefaultsToOneVcpuAnd128MiB) {
  absl::StatusOr<v1::Topology> topology =
      ParseTopologyYaml("name: t\nnodes:\n  - {name: a, role: router, image: tiny}\n", "t.yaml");
  ASSERT_OK(topology);
  EXPECT_EQ(topology->nodes(0).vcpus(), 1u);
  EXPECT_EQ(topology->nodes(0).memory_mib(), 128u);
}

TEST(TopologyYaml, LoadingAMissingFileIsNotFound) {
  EXPECT_THAT(LoadTopologyFile("/nonexistent/lab.yaml"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/lab.yaml")));
}

// Line numbers below refer to this text.
constexpr char kLab[] = R"(name: lab
networks:
  - name: mgmt
    cidr: 10.10.0.0/24
  - name: lan
    cidr: 10.10.1.0/24
nodes:
  - name: server
    role: server
    image: tiny
    nics:
      - network: mgmt
      - network: lan
  - name: client
    role: workstation
    image: tiny
    nics:
      - network: lan
)";

// kLab with the given lines (1-based) replaced by texts that may hold several lines.
std::string LabWith(const std::vector<std::pair<int, std::string>>& replacements) {
  std::vector<std::string> lines = absl::StrSplit(kLab, '\n');
  for (const auto& [line, text] : replacements) lines[line - 1] = text;
  return absl::StrJoin(lines, "\n");
}

std::string LabWithLine(int line, const std::string& text) { return LabWith({{line, text}}); }

struct Refusal {
  const char* what;
  std::string yaml;
  std::string message_start;  // "lab.yaml:<line>: <field>..."
  std::string rule;
};

void PrintTo(const Refusal& refusal, std::ostream* os) { *os << refusal.what; }

class TopologyYamlRefuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(TopologyYamlRefuses, NamingLineFieldAndRule) {
  const Refusal& r = GetParam();
  EXPECT_THAT(ParseTopologyYaml(r.yaml, "lab.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(StartsWith(r.message_start), HasSubstr(r.rule))));
}

INSTANTIATE_TEST_SUITE_P(
    BadInput, TopologyYamlRefuses,
    ::testing::Values(
        Refusal{"InvalidName", LabWithLine(14, "  - name: Web_1"),
                "lab.yaml:14: nodes[1].name \"Web_1\": ", "1 to 24 characters of a-z"},
        Refusal{"DuplicateNode", LabWithLine(14, "  - name: server"),
                "lab.yaml:14: nodes[1].name: ", "duplicate node name \"server\" (also nodes[0])"},
        Refusal{"UnknownNetwork", LabWithLine(18, "      - network: lan3"),
                "lab.yaml:18: nodes[1].nics[0].network: ",
                "unknown network \"lan3\" (must name one of: mgmt, lan)"},
        Refusal{"ZeroMemory", LabWithLine(16, "    image: tiny\n    memory_mib: 0"),
                "lab.yaml:17: nodes[1].memory_mib: ", "must be 32 to 262144 MiB, got 0"},
        Refusal{"ImageTraversal", LabWithLine(16, "    image: ../../etc/passwd"),
                "lab.yaml:16: nodes[1].image \"../../etc/passwd\": ", "never a path"},
        Refusal{"ImageSubfolder", LabWithLine(10, "    image: a/b"),
                "lab.yaml:10: nodes[0].image \"a/b\": ", "never a path"},
        Refusal{
            "UnknownRole", LabWithLine(15, "    role: webserver"),
            "lab.yaml:15: nodes[1].role: ", "unknown role \"webserver\" (must be one of: server"},
        Refusal{"MisspelledKey", LabWithLine(16, "    image: tiny\n    memroy_mib: 256"),
                "lab.yaml:17: nodes[1].memroy_mib: ",
                "unknown key (allowed: name, role, image, vcpus, memory_mib, nics, disks, covers)"},
        Refusal{"KeyGivenTwice", LabWithLine(16, "    image: tiny\n    image: other"),
                "lab.yaml:17: nodes[1].image: ", "key given twice (first on line 16)"},
        Refusal{"MissingImage", LabWithLine(16, "    # no image"),
                "lab.yaml:14: nodes[1]: ", "missing required key \"image\""},
        Refusal{"WordForNumber", LabWithLine(16, "    image: tiny\n    vcpus: two"),
                "lab.yaml:17: nodes[1].vcpus: ",
                "must be a whole number from 0 to 4294967295, got two"},
        Refusal{
            "NegativeNumber", LabWithLine(16, "    image: tiny\n    memory_mib: -128"),
            "lab.yaml:17: nodes[1].memory_mib: ", "whole number from 0 to 4294967295, got -128"},
        Refusal{"QuotedNumber", LabWithLine(16, "    image: tiny\n    memory_mib: \"128\""),
                "lab.yaml:17: nodes[1].memory_mib: ", "got the quoted string \"128\""},
        Refusal{"HugeNumber",
                LabWithLine(16, "    image: tiny\n    memory_mib: 99999999999999999999999"),
                "lab.yaml:17: nodes[1].memory_mib: ", "whole number from 0 to 4294967295"},
        Refusal{"ListForString", LabWithLine(16, "    image: [tiny]"),
                "lab.yaml:16: nodes[1].image: ", "must be a string, got a list"},
        Refusal{"StringForMap", LabWithLine(18, "      - lan"),
                "lab.yaml:18: nodes[1].nics[0]: ", "must be a map of key: value, got \"lan\""},
        Refusal{"MapForList", LabWith({{17, "    nics: {network: lan}"}, {18, ""}}),
                "lab.yaml:17: nodes[1].nics: ", "must be a list, got a map"},
        Refusal{"EmptyValue", LabWithLine(6, "    cidr:"),
                "lab.yaml:6: networks[1].cidr: ", "must be a string, got nothing"},
        Refusal{"MalformedYaml", LabWithLine(15, "    role: [server"),
                "lab.yaml:", "malformed YAML at column"},
        Refusal{"AddressOutsideCidr",
                LabWithLine(18, "      - {network: lan, address: 10.10.2.5/24}"),
                "lab.yaml:18: nodes[1].nics[0].address \"10.10.2.5/24\": ",
                "is outside network lan 10.10.1.0/24"},
        Refusal{"DuplicateAddress",
                LabWith({{13, "      - {network: lan, address: 10.10.1.7/24}"},
                         {18, "      - {network: lan, address: 10.10.1.7/24}"}}),
                "lab.yaml:18: nodes[1].nics[0].address \"10.10.1.7/24\": ",
                "duplicate address 10.10.1.7 on network lan (also nodes[0].nics[1].address)"},
        Refusal{"CidrWithHostBits", LabWithLine(6, "    cidr: 10.10.1.1/24"),
                "lab.yaml:6: networks[1].cidr \"10.10.1.1/24\": ",
                "host bits must be zero (did you mean 10.10.1.0/24?)"},
        Refusal{"EmptyDocument", "", "lab.yaml", "must be a map of key: value, got nothing"}),
    [](const ::testing::TestParamInfo<Refusal>& info) { return std::string(info.param.what); });

TEST(TopologyYaml, ErrorsWithoutARecordedFieldStillNameTheDocumentLine) {
  EXPECT_THAT(ParseTopologyYaml("name: lab\nnodes: []\n", "lab.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("lab.yaml:2: nodes: must list 1 to 32 nodes, got 0")));
}

TEST(TopologyYaml, ReadsANodesCoversList) {
  absl::StatusOr<v1::Topology> topology = ParseTopologyYaml(R"(name: lab
nodes:
  - name: storage
    role: storage
    image: tiny
    covers: [junior.ops.3.3.1, junior.ops.3.3.2]
)",
                                                            "lab.yaml");
  ASSERT_OK(topology);
  EXPECT_THAT(topology->nodes(0).covers(), ElementsAre("junior.ops.3.3.1", "junior.ops.3.3.2"));
}

TEST(TopologyYaml, RefusesAnUnknownCoversIdNamingItsLine) {
  EXPECT_THAT(ParseTopologyYaml(R"(name: lab
nodes:
  - name: storage
    role: storage
    image: tiny
    covers:
      - junior.ops.3.3.1
      - junior.ops.9.9.9
)",
                                "lab.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("lab.yaml:8: nodes[0].covers[1]: unknown catalogue item "
                                  "\"junior.ops.9.9.9\"")));
  EXPECT_THAT(
      ParseTopologyYaml("name: lab\nnodes: [{name: a, role: server, image: tiny, "
                        "covers: {a: b}}]\n",
                        "lab.yaml"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nodes[0].covers: must be a list")));
}

// `n` aliases of a node that holds `n` aliases of one NIC: about 11n bytes, n*n NICs.
std::string NodesOfAliasedNics(int n) {
  std::string nics = "[&nic {network: lan}";
  std::string nodes = "[&node {name: a, role: server, image: tiny, nics: ";
  for (int i = 0; i < n; ++i) absl::StrAppend(&nics, ",*nic");
  absl::StrAppend(&nodes, nics, "]}");
  for (int i = 0; i < n; ++i) absl::StrAppend(&nodes, ",*node");
  return absl::StrCat("name: lab\nnetworks: [{name: lan}]\nnodes: ", nodes, "]\n");
}

// Reading walks an alias anew at each use. Before the reader stopped at kMaxYamlValues,
// 2.5 KiB of this shape (one-letter anchors, 400 by 400) took 5 s and 380 MiB under
// AddressSanitizer, and the 1 MiB a file may hold had no practical bound.
TEST(TopologyYaml, RefusesAliasesThatExpandToTooManyValues) {
  std::string yaml = NodesOfAliasedNics(300);  // 90000 NICs
  ASSERT_LT(yaml.size(), 4096u);
  EXPECT_THAT(ParseTopologyYaml(yaml, "lab.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("lab.yaml:3: nodes["),
                             HasSubstr("the document holds more than 20000 values, counting "
                                       "each use of an alias"))));
}

// Every list at the most the rules allow: 16 networks, 32 nodes of 16 NICs and 16 disks,
// each covering the whole catalogue. About 6500 values, well inside kMaxYamlValues.
std::string LargestValidTopology() {
  std::string yaml = "name: largest\nnetworks:\n";
  for (int i = 0; i < kMaxNetworks; ++i) {
    absl::StrAppend(&yaml, "  - {name: net", i, ", cidr: 10.", i, ".0.0/16}\n");
  }
  std::string covers;
  for (const StandardItem& item : BuiltInStandardCatalogue()->items()) {
    absl::StrAppend(&covers, covers.empty() ? "" : ", ", item.id);
  }
  absl::StrAppend(&yaml, "nodes:\n");
  for (int n = 0; n < kMaxNodes; ++n) {
    absl::StrAppend(&yaml, "  - name: node", n, "\n    role: server\n    image: tiny\n",
                    "    vcpus: 2\n    memory_mib: 256\n    covers: [", covers, "]\n    nics:\n");
    for (int i = 0; i < kMaxNicsPerNode; ++i) {
      absl::StrAppend(&yaml, "      - network: net", i, "\n");
    }
    absl::StrAppend(&yaml, "    disks:\n");
    for (int i = 0; i < kMaxDisksPerNode; ++i) {
      absl::StrAppend(&yaml, "      - {name: d", i, ", size_mib: 1024}\n");
    }
  }
  return yaml;
}

TEST(TopologyYaml, ReadsTheLargestTopologyTheRulesAllow) {
  ASSERT_OK(BuiltInStandardCatalogue());
  absl::StatusOr<v1::Topology> topology = ParseTopologyYaml(LargestValidTopology(), "lab.yaml");
  ASSERT_OK(topology);
  EXPECT_EQ(topology->nodes_size(), kMaxNodes);
  EXPECT_EQ(topology->nodes(kMaxNodes - 1).covers_size(),
            static_cast<int>(BuiltInStandardCatalogue()->items().size()));
}

// Two sites joined by a WAN; line numbers below refer to this text.
constexpr char kTwoSites[] = R"(name: sites
networks:
  - name: wan
    shape: {bandwidth_kbps: 10000, latency_ms: 40, loss_percent: 0.5}
nodes:
  - {name: r1, role: router, image: tiny, nics: [{network: wan}]}
  - {name: r2, role: router, image: tiny, nics: [{network: wan}]}
)";

TEST(TopologyYaml, ReadsANetworksLinkShape) {
  absl::StatusOr<v1::Topology> topology = ParseTopologyYaml(kTwoSites, "sites.yaml");
  ASSERT_OK(topology);
  ASSERT_TRUE(topology->networks(0).has_shape());
  EXPECT_EQ(topology->networks(0).shape().bandwidth_kbps(), 10000u);
  EXPECT_EQ(topology->networks(0).shape().latency_ms(), 40u);
  EXPECT_FLOAT_EQ(topology->networks(0).shape().loss_percent(), 0.5f);
}

TEST(TopologyYaml, RefusesBadLinkShapesNamingLineFieldAndRule) {
  auto with_shape = [](const std::string& shape) {
    return absl::StrReplaceAll(
        kTwoSites, {{"{bandwidth_kbps: 10000, latency_ms: 40, loss_percent: 0.5}", shape}});
  };
  EXPECT_THAT(ParseTopologyYaml(with_shape("{latency_ms: -5}"), "sites.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("sites.yaml:4: networks[0].shape.latency_ms"),
                             HasSubstr("whole number"))));
  EXPECT_THAT(ParseTopologyYaml(with_shape("{latency_ms: 20000}"), "sites.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("sites.yaml:4: networks[0].shape.latency_ms: must be 0 to "
                                  "10000 ms")));
  EXPECT_THAT(ParseTopologyYaml(with_shape("{loss_percent: lots}"), "sites.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("sites.yaml:4: networks[0].shape.loss_percent: must be a "
                                  "number")));
  EXPECT_THAT(ParseTopologyYaml(with_shape("{loss_percent: 150}"), "sites.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("networks[0].shape.loss_percent: must be a percentage")));
  EXPECT_THAT(ParseTopologyYaml(with_shape("{jitter_ms: 5}"), "sites.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("networks[0].shape.jitter_ms"), HasSubstr("unknown key"))));
}

TEST(TopologyYaml, RefusesAShapedNetworkWithAThirdNic) {
  std::string yaml = absl::StrCat(
      kTwoSites, "  - {name: r3, role: router, image: tiny, nics: [{network: wan}]}\n");
  EXPECT_THAT(ParseTopologyYaml(yaml, "sites.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("sites.yaml:4: networks[0].shape: a shaped network must "
                                        "join exactly two NICs"),
                             HasSubstr("got 3"))));
}

}  // namespace
}  // namespace labrack
