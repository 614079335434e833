// Every level of the standard provisioned for real: one controller and one worker process
// on qemu:///system, each level topology applied through labrackctl with every image
// overridden by tiny, created and checked from inside its guests, then destroyed. The
// levels run one after another (the largest reserves 10 GiB) on one shared cluster; each
// leaves nothing behind.
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/names.h"
#include "common/topology/ipv4.h"
#include "common/topology/topology_yaml.h"
#include "google/protobuf/util/json_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster.h"
#include "tests/testing/guest_probes.h"
#include "tests/testing/status_matchers.h"

namespace labrack::e2e {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

// A NIC as libvirt wired it: the node, the network the topology declares and the MAC.
struct WiredNic {
  std::string node;
  std::string network;
  std::string mac;
};

std::string TopologyPath(const std::string& level) {
  return absl::StrCat(getenv("LABRACK_SOURCE_DIR"), "/topologies/", level, ".yaml");
}

// `virsh domiflist` of `domain`: (source network, MAC) per interface, in the XML's order.
std::vector<std::pair<std::string, std::string>> DomainInterfaces(const std::string& domain) {
  CommandResult r = RunCommand({"virsh", "-c", "qemu:///system", "domiflist", domain}, "",
                               absl::Seconds(30));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::pair<std::string, std::string>> nics;
  bool past_header = false;
  for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipWhitespace())) {
    if (absl::StartsWith(line, "---")) {
      past_header = true;
      continue;
    }
    std::vector<std::string> cols = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (past_header && cols.size() == 5) nics.emplace_back(cols[2], absl::AsciiStrToLower(cols[4]));
  }
  return nics;
}

class LevelTopologies : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    ClusterOptions options;
    options.workers = 1;
    // 16 guests of the senior level boot at once under emulation on 2 cores.
    options.ready_timeout = absl::Minutes(5);
    options.cpu_overcommit = 16;
    cluster_ = new Cluster(options);
    cluster_->Start();  // imports tiny
    if (::testing::Test::HasFatalFailure()) return;
    std::string src = getenv("LABRACK_SOURCE_DIR");
    CommandResult image = cluster_->Ctl({"image", "import", src + "/images/out/linkemu/manifest.yaml"});
    ASSERT_EQ(image.exit_code, 0) << image.err << "\nbuild it with images/build.sh linkemu";
  }
  static void TearDownTestSuite() {
    cluster_->Stop();
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (cluster_->dir().empty()) GTEST_SKIP() << "the cluster did not start";
    absl::StatusOr<v1::Topology> topology = LoadTopologyFile(TopologyPath(GetParam()));
    ASSERT_OK(topology);
    topology_ = *std::move(topology);
  }
  void TearDown() override {
    if (!sandbox_.sandbox_id().empty()) {
      CommandResult r = cluster_->Ctl({"sandbox", "destroy", sandbox_.sandbox_id(), "--wait"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_THAT(cluster_->Leftovers(), IsEmpty()) << "destroying " << GetParam() << " left objects";
    }
  }

  // Applies the level's topology with every image it names replaced by tiny.
  void ApplyWithTinyImages() {
    std::set<std::string> images;
    for (const v1::Node& node : topology_.nodes()) images.insert(node.image());
    std::vector<std::string> args = {"topology", "apply", TopologyPath(GetParam())};
    for (const std::string& image : images) {
      if (image != "tiny") args.insert(args.end(), {"--image-override", image + "=tiny"});
    }
    CommandResult r = cluster_->Ctl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  void CreateAndWait() {
    absl::Time start = absl::Now();
    CommandResult r = cluster_->Ctl({"-o", "json", "sandbox", "create", "--topology",
                                     topology_.name(), "--candidate", "level-check", "--wait"},
                                    "", absl::Minutes(8));
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &sandbox_, options).ok())
        << r.out << r.err;
    ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << cluster_->LogTails();
    std::printf("%s: %d nodes ready %.1f s after create\n", GetParam().c_str(), sandbox_.nodes_size(),
                absl::ToDoubleSeconds(absl::Now() - start));
  }

  // Every NIC of every node as libvirt wired it, checked against the topology: the n-th
  // interface is on the n-th declared network (or on one half of it, where the worker put
  // a link emulator in the middle).
  std::vector<WiredNic> WiredNics() {
    std::vector<WiredNic> wired;
    const std::string& id = sandbox_.sandbox_id();
    for (const v1::Node& node : topology_.nodes()) {
      auto interfaces = DomainInterfaces(DomainName(id, node.name()));
      EXPECT_EQ(interfaces.size(), static_cast<size_t>(node.nics_size())) << node.name();
      for (int i = 0; i < node.nics_size() && i < static_cast<int>(interfaces.size()); ++i) {
        const std::string& declared = node.nics(i).network();
        const std::string& source = interfaces[i].first;
        EXPECT_TRUE(source == NetworkName(id, declared) || source == NetworkName(id, declared + ".a") ||
                    source == NetworkName(id, declared + ".b"))
            << node.name() << " NIC " << i << " is on " << source << ", not on " << declared;
        wired.push_back({node.name(), declared, interfaces[i].second});
      }
    }
    return wired;
  }

  const v1::NodeStatus* NodeStatus(const std::string& name) const {
    for (const v1::NodeStatus& n : sandbox_.nodes()) {
      if (n.name() == name) return &n;
    }
    return nullptr;
  }

  static Cluster* cluster_;
  v1::Topology topology_;
  v1::Sandbox sandbox_;
};

Cluster* LevelTopologies::cluster_ = nullptr;

TEST_P(LevelTopologies, ProvisionsWithTinyImagesAndEveryGuestSeesItsLab) {
  ASSERT_NO_FATAL_FAILURE(ApplyWithTinyImages());
  ASSERT_NO_FATAL_FAILURE(CreateAndWait());
  const std::string& id = sandbox_.sandbox_id();

  // Every node, and only the topology's nodes (a link emulator stays hidden), is ready.
  EXPECT_EQ(sandbox_.phase(), v1::SANDBOX_PHASE_READY) << sandbox_.message();
  std::vector<std::string> declared, listed;
  for (const v1::Node& node : topology_.nodes()) declared.push_back(node.name());
  for (const v1::NodeStatus& n : sandbox_.nodes()) {
    listed.push_back(n.name());
    EXPECT_EQ(n.phase(), v1::NODE_PHASE_READY) << n.name() << ": " << n.message();
  }
  EXPECT_THAT(listed, UnorderedElementsAreArray(declared));

  std::vector<WiredNic> wired = WiredNics();
  std::map<std::string, const WiredNic*> by_mac;
  for (const WiredNic& nic : wired) by_mac[nic.mac] = &nic;

  std::map<std::string, std::unique_ptr<testing::GuestShell>> shells;
  for (const v1::Node& node : topology_.nodes()) {
    auto shell = cluster_->Shell(0, id, node.name());
    ASSERT_OK(shell) << node.name();
    ASSERT_OK(testing::AnswerBroadcastPings(**shell)) << node.name();
    shells[node.name()] = *std::move(shell);
  }
  for (const v1::Node& node : topology_.nodes()) {
    SCOPED_TRACE(node.name());
    testing::GuestShell& shell = *shells[node.name()];

    // Each NIC's link neighbours are exactly the other nodes the topology puts on its
    // network. Nodes, not NICs: a node with two NICs on one segment (the junior switch's
    // spare port) answers from one of them, as any host with two addresses in one subnet.
    auto seen = testing::ProbeNeighbours(shell);
    ASSERT_OK(seen);
    std::set<std::string> own_macs;
    for (const testing::NicNeighbours& nic : *seen) own_macs.insert(nic.mac);
    std::set<std::string> wired_macs;
    for (const WiredNic& nic : wired) {
      if (nic.node == node.name()) wired_macs.insert(nic.mac);
    }
    EXPECT_EQ(own_macs, wired_macs) << "the guest's NICs are not the ones libvirt wired";
    for (const testing::NicNeighbours& nic : *seen) {
      auto self = by_mac.find(nic.mac);
      if (self == by_mac.end()) continue;
      std::set<std::string> expected, got;
      for (const WiredNic& other : wired) {
        if (other.network == self->second->network && other.node != node.name()) {
          expected.insert(other.node);
        }
      }
      for (const std::string& mac : nic.neighbours) {
        auto who = by_mac.find(mac);
        // A MAC of no NIC of the lab, or a NIC on another network, is a leak.
        got.insert(who == by_mac.end() ? "unknown " + mac
                   : who->second->network == self->second->network
                       ? who->second->node
                       : who->second->node + " (on " + who->second->network + ")");
      }
      EXPECT_EQ(got, expected) << "neighbours of the NIC on " << self->second->network;
    }

    // The blank disks are there, of their declared sizes, and blank.
    auto disks = testing::ProbeExtraDisks(shell);
    ASSERT_OK(disks);
    std::vector<uint64_t> want_sizes, got_sizes;
    for (const v1::Disk& d : node.disks()) want_sizes.push_back(d.size_mib());
    for (const testing::GuestDisk& d : *disks) {
      got_sizes.push_back(d.size_mib);
      EXPECT_EQ(d.nonzero_bytes, 0u) << d.name << " is not blank";
    }
    EXPECT_THAT(got_sizes, UnorderedElementsAreArray(want_sizes));
  }

  // A shaped link delays as declared, measured from one end to the other.
  for (const v1::Network& net : topology_.networks()) {
    if (!net.has_shape() || net.shape().latency_ms() == 0) continue;
    SCOPED_TRACE(net.name());
    std::vector<const WiredNic*> ends;
    for (const WiredNic& nic : wired) {
      if (nic.network == net.name()) ends.push_back(&nic);
    }
    ASSERT_EQ(ends.size(), 2u);
    std::optional<Ipv4Cidr> cidr = ParseIpv4Cidr(net.cidr());
    ASSERT_TRUE(cidr.has_value()) << "a shaped link needs a cidr to be measured";
    std::string target;
    for (const std::string& a : NodeStatus(ends[1]->node)->addresses()) {
      std::optional<Ipv4Cidr> address = ParseIpv4Cidr(a);
      if (address && cidr->Contains(address->address)) target = FormatIpv4(address->address);
    }
    ASSERT_FALSE(target.empty()) << ends[1]->node << " has no address on " << net.name();
    auto ping = testing::PingFromGuest(*shells[ends[0]->node], target, 20);
    ASSERT_OK(ping);
    double latency = net.shape().latency_ms();
    std::printf("%s: %s -> %s round trip min/avg/max %.1f/%.1f/%.1f ms, %d of %d answered\n",
                net.name().c_str(), ends[0]->node.c_str(), ends[1]->node.c_str(), ping->min_ms,
                ping->avg_ms, ping->max_ms, ping->received, ping->transmitted);
    EXPECT_GE(ping->received, 15);
    EXPECT_NEAR(ping->avg_ms / 2, latency, latency * 0.2) << "one way is half the round trip";
  }
}

INSTANTIATE_TEST_SUITE_P(Standard, LevelTopologies,
                         ::testing::Values("junior-ops", "junior-dev", "intermediate-ops",
                                           "intermediate-dev", "senior"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           absl::StrReplaceAll({{"-", "_"}}, &name);
                           return name;
                         });

}  // namespace
}  // namespace labrack::e2e
