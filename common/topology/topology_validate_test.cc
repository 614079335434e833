// Tests of ValidateTopology and WithAssignedAddresses on protos as they arrive over gRPC:
// every refusal names the field path and the rule.
#include "common/topology/topology_validate.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kValid[] = R"pb(
  name: "lab"
  networks { name: "mgmt" cidr: "10.10.0.0/24" }
  networks { name: "lan" cidr: "10.10.1.0/24" }
  networks { name: "wire" }
  nodes {
    name: "server"
    role: NODE_ROLE_SERVER
    image: "tiny"
    vcpus: 1
    memory_mib: 128
    nics { network: "mgmt" }
    nics { network: "lan" address: "10.10.1.1/24" }
  }
  nodes {
    name: "router"
    role: NODE_ROLE_ROUTER
    image: "tiny"
    vcpus: 2
    memory_mib: 256
    nics { network: "lan" }
    nics { network: "wire" }
    disks { name: "data0" size_mib: 1024 }
  }
)pb";

v1::Topology Parse(const std::string& text) {
  v1::Topology topology;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &topology)) << text;
  return topology;
}

// kValid with `edit` applied.
template <typename Edit>
v1::Topology ValidWith(Edit edit) {
  v1::Topology topology = Parse(kValid);
  edit(topology);
  return topology;
}

// InvalidArgument whose message starts with `path` and contains `rule`.
MATCHER_P2(RefusedAt, path, rule, "") {
  return ::testing::ExplainMatchResult(
      StatusIs(absl::StatusCode::kInvalidArgument,
               ::testing::AllOf(StartsWith(path), HasSubstr(rule))),
      arg, result_listener);
}

TEST(ValidateTopology, AcceptsAWellFormedTopology) { EXPECT_OK(ValidateTopology(Parse(kValid))); }

TEST(ValidateTopology, RefusesATopologyWithoutNodes) {
  EXPECT_THAT(ValidateTopology(ValidWith([](v1::Topology& t) { t.clear_nodes(); })),
              RefusedAt("nodes: ", "1 to 32 nodes, got 0"));
}

TEST(ValidateTopology, RefusesMoreThan32NodesOr16Networks) {
  v1::Topology many = ValidWith([](v1::Topology& t) {
    for (int i = 0; i < 31; ++i) *t.add_nodes() = t.nodes(0);
  });
  EXPECT_THAT(ValidateTopology(many), RefusedAt("nodes: ", "got 33"));
  v1::Topology nets = ValidWith([](v1::Topology& t) {
    for (int i = 0; i < 14; ++i) t.add_networks()->set_name("n" + std::to_string(i));
  });
  EXPECT_THAT(ValidateTopology(nets), RefusedAt("networks: ", "at most 16 networks, got 17"));
}

TEST(ValidateTopology, RefusesInvalidAndDuplicateNames) {
  EXPECT_THAT(ValidateTopology(ValidWith([](v1::Topology& t) { t.set_name("Lab"); })),
              RefusedAt("name \"Lab\"", "a-z"));
  EXPECT_THAT(
      ValidateTopology(ValidWith([](v1::Topology& t) { t.mutable_nodes(1)->set_name("Web_1"); })),
      RefusedAt("nodes[1].name \"Web_1\"", "must be 1 to 24 characters"));
  EXPECT_THAT(
      ValidateTopology(ValidWith([](v1::Topology& t) { t.mutable_nodes(1)->set_name("server"); })),
      RefusedAt("nodes[1].name: ", "duplicate node name \"server\" (also nodes[0])"));
  EXPECT_THAT(
      ValidateTopology(ValidWith([](v1::Topology& t) { t.mutable_networks(1)->set_name("mgmt"); })),
      RefusedAt("networks[1].name: ", "duplicate network name \"mgmt\""));
}

TEST(ValidateTopology, RefusesUnsetRoleAndImagePaths) {
  EXPECT_THAT(
      ValidateTopology(ValidWith([](v1::Topology& t) { t.mutable_nodes(0)->clear_role(); })),
      RefusedAt("nodes[0].role: ", "server, switch, storage"));
  for (const char* image : {"../../etc/passwd", "a/b", ""}) {
    EXPECT_THAT(
        ValidateTopology(ValidWith([&](v1::Topology& t) { t.mutable_nodes(0)->set_image(image); })),
        RefusedAt("nodes[0].image", "never a path"))
        << image;
  }
}

TEST(ValidateTopology, RefusesZeroMemoryAndTooManyVcpus) {
  EXPECT_THAT(
      ValidateTopology(ValidWith([](v1::Topology& t) { t.mutable_nodes(1)->set_memory_mib(0); })),
      RefusedAt("nodes[1].memory_mib: ", "must be 32 to 262144 MiB, got 0"));
  EXPECT_THAT(
      ValidateTopology(ValidWith([](v1::Topology& t) { t.mutable_nodes(0)->set_vcpus(65); })),
      RefusedAt("nodes[0].vcpus: ", "must be 1 to 64 vCPUs, got 65"));
}

TEST(ValidateTopology, RefusesNicOnUnknownNetworkListingTheKnownOnes) {
  EXPECT_THAT(ValidateTopology(ValidWith([](v1::Topology& t) {
                t.mutable_nodes(1)->mutable_nics(0)->set_network("lan3");
              })),
              RefusedAt("nodes[1].nics[0].network: ",
                        "unknown network \"lan3\" (must name one of: mgmt, lan, wire)"));
}

TEST(ValidateTopology, RefusesAddressesThatAreNotFreeHostsOfTheNetwork) {
  struct Case {
    const char* address;
    const char* rule;
  } cases[] = {
      {"10.10.2.5/24", "is outside network lan 10.10.1.0/24"},
      {"10.10.1.0/24", "network or broadcast address"},
      {"10.10.1.255/24", "network or broadcast address"},
      {"10.10.1.255/16", "network or broadcast address of network lan 10.10.1.0/24"},
      {"10.10.1.1/24",
       "duplicate address 10.10.1.1 on network lan (also nodes[0].nics[1].address)"},
      {"10.10.1.5/31", "p from 1 to 30"},
      {"10.10.1.5", "a.b.c.d/p"},
      {"lan-host", "a.b.c.d/p"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ValidateTopology(ValidWith([&](v1::Topology& t) {
                  t.mutable_nodes(1)->mutable_nics(0)->set_address(c.address);
                })),
                RefusedAt("nodes[1].nics[0].address", c.rule))
        << c.address;
  }
}

TEST(ValidateTopology, AcceptsAnyHostAddressOnANetworkWithoutCidr) {
  EXPECT_OK(ValidateTopology(ValidWith([](v1::Topology& t) {
    t.mutable_nodes(1)->mutable_nics(1)->set_address("192.168.7.1/24");
  })));
}

TEST(ValidateTopology, RefusesCidrsWithHostBitsOrOddPrefixes) {
  auto with_cidr = [](const char* cidr) {
    return ValidWith([&](v1::Topology& t) { t.mutable_networks(2)->set_cidr(cidr); });
  };
  EXPECT_THAT(ValidateTopology(with_cidr("10.10.2.5/24")),
              RefusedAt("networks[2].cidr", "host bits must be zero (did you mean 10.10.2.0/24?)"));
  EXPECT_THAT(ValidateTopology(with_cidr("10.0.0.0/7")),
              RefusedAt("networks[2].cidr", "p from 8 to 30"));
  EXPECT_THAT(ValidateTopology(with_cidr("10.10.2.0/31")),
              RefusedAt("networks[2].cidr", "p from 8 to 30"));
  EXPECT_THAT(ValidateTopology(with_cidr("10.10.2/24")),
              RefusedAt("networks[2].cidr", "IPv4 subnet"));
}

TEST(ValidateTopology, RefusesBadDisks) {
  EXPECT_THAT(ValidateTopology(ValidWith(
                  [](v1::Topology& t) { *t.mutable_nodes(1)->add_disks() = t.nodes(1).disks(0); })),
              RefusedAt("nodes[1].disks[1].name: ", "duplicate disk name \"data0\""));
  EXPECT_THAT(ValidateTopology(ValidWith(
                  [](v1::Topology& t) { t.mutable_nodes(1)->mutable_disks(0)->set_size_mib(0); })),
              RefusedAt("nodes[1].disks[0].size_mib: ", "must be 1 to 4194304 MiB, got 0"));
  EXPECT_THAT(ValidateTopology(ValidWith([](v1::Topology& t) {
                for (int i = 0; i < 16; ++i) t.mutable_nodes(1)->add_disks();
              })),
              RefusedAt("nodes[1].disks: ", "at most 16 disks per node, got 17"));
}

TEST(ValidateTopology, RefusesMoreThan16Nics) {
  EXPECT_THAT(ValidateTopology(ValidWith([](v1::Topology& t) {
                for (int i = 0; i < 15; ++i) t.mutable_nodes(1)->add_nics()->set_network("wire");
              })),
              RefusedAt("nodes[1].nics: ", "at most 16 NICs per node, got 17"));
}

TEST(WithAssignedAddresses, HandsOutFreeHostsInNodeOrderSkippingTakenOnes) {
  absl::StatusOr<v1::Topology> assigned = WithAssignedAddresses(Parse(kValid));
  ASSERT_OK(assigned);
  EXPECT_EQ(assigned->nodes(0).nics(0).address(), "10.10.0.1/24");
  EXPECT_EQ(assigned->nodes(0).nics(1).address(), "10.10.1.1/24");  // as given
  EXPECT_EQ(assigned->nodes(1).nics(0).address(), "10.10.1.2/24");  // .1 is taken
  EXPECT_EQ(assigned->nodes(1).nics(1).address(), "");              // network without cidr
  EXPECT_OK(ValidateTopology(*assigned));
}

TEST(WithAssignedAddresses, SkipsAddressesTakenByLaterNodes) {
  absl::StatusOr<v1::Topology> assigned = WithAssignedAddresses(ValidWith([](v1::Topology& t) {
    t.mutable_nodes(0)->mutable_nics(1)->clear_address();
    t.mutable_nodes(1)->mutable_nics(0)->set_address("10.10.1.1/24");
  }));
  ASSERT_OK(assigned);
  EXPECT_EQ(assigned->nodes(0).nics(1).address(), "10.10.1.2/24");
}

TEST(WithAssignedAddresses, ReportsAFullSubnetAsResourceExhausted) {
  v1::Topology full = ValidWith([](v1::Topology& t) {
    t.mutable_networks(1)->set_cidr("10.10.1.0/30");  // two hosts: .1 (taken) and .2
    t.mutable_nodes(1)->add_nics()->set_network("lan");
  });
  EXPECT_THAT(WithAssignedAddresses(full),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("nodes[1].nics[2]: no free host address left in network lan "
                                 "(10.10.1.0/30)")));
}

TEST(WithAssignedAddresses, RefusesAnInvalidTopology) {
  EXPECT_THAT(WithAssignedAddresses(ValidWith([](v1::Topology& t) { t.clear_nodes(); })),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ValidateTopology, AcceptsCatalogueItemsInCovers) {
  EXPECT_OK(ValidateTopology(ValidWith([](v1::Topology& t) {
    t.mutable_nodes(0)->add_covers("junior.ops.3.3.1");
    t.mutable_nodes(0)->add_covers("senior.3.3.2");
    t.mutable_nodes(1)->add_covers("junior.ops.3.3.1");  // another node may serve it too
  })));
}

TEST(ValidateTopology, RefusesCoversIdsTheCatalogueDoesNotKnow) {
  EXPECT_THAT(ValidateTopology(ValidWith([](v1::Topology& t) {
                t.mutable_nodes(1)->add_covers("junior.ops.3.3.1");
                t.mutable_nodes(1)->add_covers("x.y");
              })),
              RefusedAt("nodes[1].covers[1]: ", "unknown catalogue item \"x.y\""));
  EXPECT_THAT(ValidateTopology(ValidWith([](v1::Topology& t) {
                t.mutable_nodes(0)->add_covers("junior.ops");  // a group, not an item
              })),
              RefusedAt("nodes[0].covers[0]: ", "unknown catalogue item"));
}

TEST(ValidateTopology, RefusesTheSameCoversIdTwiceInOneNode) {
  EXPECT_THAT(ValidateTopology(ValidWith([](v1::Topology& t) {
                t.mutable_nodes(0)->add_covers("senior.3.3.1");
                t.mutable_nodes(0)->add_covers("senior.3.3.2");
                t.mutable_nodes(0)->add_covers("senior.3.3.1");
              })),
              RefusedAt("nodes[0].covers[2]: ",
                        "duplicate catalogue item \"senior.3.3.1\" (also nodes[0].covers[0])"));
}

// kValid's "wire" joins one NIC (router); with the server's second NIC on it too, it is a
// point-to-point link that may be shaped.
v1::Topology WithShapedWire(const char* shape) {
  v1::Topology topology = Parse(kValid);
  topology.mutable_nodes(0)->add_nics()->set_network("wire");
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      shape, topology.mutable_networks(2)->mutable_shape()));
  return topology;
}

TEST(ValidateTopology, AcceptsAShapedPointToPointLink) {
  EXPECT_OK(ValidateTopology(
      WithShapedWire("bandwidth_kbps: 10000 latency_ms: 40 loss_percent: 0.5")));
  EXPECT_OK(ValidateTopology(WithShapedWire("latency_ms: 10000 loss_percent: 100")));
  EXPECT_OK(ValidateTopology(WithShapedWire("")));
}

TEST(ValidateTopology, RefusesAShapedNetworkThatIsNotPointToPoint) {
  v1::Topology one_end = ValidWith([](v1::Topology& t) {
    t.mutable_networks(2)->mutable_shape()->set_latency_ms(40);
  });
  EXPECT_THAT(ValidateTopology(one_end),
              RefusedAt("networks[2].shape", "must join exactly two NICs (a point-to-point "
                                             "link), got 1: nodes[1].nics[1]"));
  v1::Topology three_ends = ValidWith([](v1::Topology& t) {
    t.mutable_networks(1)->mutable_shape()->set_bandwidth_kbps(1000);
    t.mutable_nodes(1)->add_nics()->set_network("lan");
  });
  EXPECT_THAT(ValidateTopology(three_ends),
              RefusedAt("networks[1].shape", "exactly two NICs (a point-to-point link), got 3"));
}

TEST(ValidateTopology, RefusesAbsurdLinkShapes) {
  EXPECT_THAT(ValidateTopology(WithShapedWire("latency_ms: 10001")),
              RefusedAt("networks[2].shape.latency_ms", "must be 0 to 10000 ms (one way), got 10001"));
  EXPECT_THAT(ValidateTopology(WithShapedWire("loss_percent: 100.5")),
              RefusedAt("networks[2].shape.loss_percent", "from 0 to 100, got 100.5"));
  EXPECT_THAT(ValidateTopology(WithShapedWire("loss_percent: -1")),
              RefusedAt("networks[2].shape.loss_percent", "from 0 to 100, got -1"));
  EXPECT_THAT(ValidateTopology(WithShapedWire("loss_percent: nan")),
              RefusedAt("networks[2].shape.loss_percent", "from 0 to 100"));
  EXPECT_THAT(ValidateTopology(WithShapedWire("bandwidth_kbps: 8")),
              RefusedAt("networks[2].shape.bandwidth_kbps",
                        "must be 0 (unlimited) or 64 to 10000000 kbit/s, got 8"));
  EXPECT_THAT(ValidateTopology(WithShapedWire("bandwidth_kbps: 10000001")),
              RefusedAt("networks[2].shape.bandwidth_kbps", "got 10000001"));
}

}  // namespace
}  // namespace labrack
