// Unit tests of the scheduler: which host a sandbox goes to, which hosts are left out and
// what the refusal says, and what a topology needs. Fixtures are text-format protos.
#include "controller/scheduler/scheduler.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/topology/link_shape.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "labrack/v1/controller.pb.h"
#include "tests/testing/status_matchers.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

// A host as the controller lists it, heard from at kNow. Images are plain names here.
HostView Host(const std::string& text) {
  const auto host = Parse<v1::Host>(text);
  HostView view;
  view.host_id = host.host_id();
  view.total = host.total();
  view.reserved = host.reserved();
  view.drained = host.drained();
  view.last_heartbeat = kNow;
  view.cached_images.assign(host.images().begin(), host.images().end());
  return view;
}

HostView Silent(HostView host, absl::Duration silence) {
  host.last_heartbeat = kNow - silence;
  return host;
}

SandboxNeeds Needs(const std::string& capacity, std::vector<std::string> images = {}) {
  return SandboxNeeds{Parse<v1::Capacity>(capacity), std::move(images)};
}

SchedulerPolicy Policy(Strategy strategy) {
  SchedulerPolicy policy;
  policy.strategy = strategy;
  return policy;
}

const SchedulerPolicy kSpread = Policy(Strategy::kSpread);
const SchedulerPolicy kPack = Policy(Strategy::kPack);

// Three equal hosts with a quarter, three quarters and half of their memory free.
std::vector<HostView> ThreeLoads() {
  return {
      Host(R"pb(host_id: "quarter-free"
                total { vcpus: 16 memory_mib: 32768 disk_mib: 102400 }
                reserved { vcpus: 8 memory_mib: 24576 })pb"),
      Host(R"pb(host_id: "three-quarters-free"
                total { vcpus: 16 memory_mib: 32768 disk_mib: 102400 }
                reserved { vcpus: 8 memory_mib: 8192 })pb"),
      Host(R"pb(host_id: "half-free"
                total { vcpus: 16 memory_mib: 32768 disk_mib: 102400 }
                reserved { vcpus: 8 memory_mib: 16384 })pb"),
  };
}

const SandboxNeeds kSmall = Needs("vcpus: 2 memory_mib: 2048 disk_mib: 1024");

TEST(PickHost, SpreadChoosesTheHostWithTheMostMemoryLeft) {
  EXPECT_THAT(PickHost(ThreeLoads(), kSmall, kSpread, kNow), IsOkAndHolds("three-quarters-free"));
}

TEST(PickHost, PackChoosesTheHostWithTheLeastMemoryLeft) {
  EXPECT_THAT(PickHost(ThreeLoads(), kSmall, kPack, kNow), IsOkAndHolds("quarter-free"));
}

TEST(PickHost, EqualMemoryIsDecidedByVcpusLeft) {
  const std::vector<HostView> hosts = {
      Host(R"pb(host_id: "busy-cpus"
                total { vcpus: 8 memory_mib: 16384 }
                reserved { vcpus: 24 })pb"),
      Host(R"pb(host_id: "idle-cpus"
                total { vcpus: 8 memory_mib: 16384 })pb"),
  };
  const SandboxNeeds needs = Needs("vcpus: 2 memory_mib: 1024");
  EXPECT_THAT(PickHost(hosts, needs, kSpread, kNow), IsOkAndHolds("idle-cpus"));
  EXPECT_THAT(PickHost(hosts, needs, kPack, kNow), IsOkAndHolds("busy-cpus"));
}

TEST(PickHost, SkipsDrainedHosts) {
  const std::vector<HostView> hosts = {
      Host(R"pb(host_id: "empty-but-drained"
                drained: true
                total { vcpus: 16 memory_mib: 65536 disk_mib: 102400 })pb"),
      Host(R"pb(host_id: "busy"
                total { vcpus: 16 memory_mib: 65536 disk_mib: 102400 }
                reserved { memory_mib: 60000 })pb"),
  };
  EXPECT_THAT(PickHost(hosts, kSmall, kSpread, kNow), IsOkAndHolds("busy"));
  EXPECT_THAT(FittingHosts(hosts, kSmall, kSpread, kNow), ElementsAre("busy"));
}

TEST(TotalFree, SumsWhatLiveHostsLeaveAtTheOvercommit) {
  const std::vector<HostView> hosts = {
      Host(R"pb(host_id: "live"
                total { vcpus: 16 memory_mib: 32768 disk_mib: 102400 }
                reserved { vcpus: 8 memory_mib: 8192 disk_mib: 2400 })pb"),
      Host(R"pb(host_id: "overfull"
                total { vcpus: 4 memory_mib: 4096 disk_mib: 1000 }
                reserved { vcpus: 1 memory_mib: 8192 disk_mib: 500 })pb"),
      Host(R"pb(host_id: "drained"
                drained: true
                total { vcpus: 16 memory_mib: 65536 disk_mib: 102400 })pb"),
      Silent(Host(R"pb(host_id: "silent"
                       total { vcpus: 16 memory_mib: 65536 disk_mib: 102400 })pb"),
             absl::Seconds(16)),
  };
  // Default overcommit: 4x vCPUs, 1x memory and disk; "overfull" holds more memory than it
  // has and adds none.
  const v1::Capacity free = TotalFree(hosts, kSpread, kNow);
  EXPECT_EQ(free.vcpus(), (16 * 4 - 8) + (4 * 4 - 1));
  EXPECT_EQ(free.memory_mib(), 32768 - 8192);
  EXPECT_EQ(free.disk_mib(), (102400 - 2400) + (1000 - 500));
}

TEST(PickHost, SkipsHostsSilentForLongerThanTheTimeout) {
  const HostView empty = Host(R"pb(host_id: "empty"
                                   total { vcpus: 16 memory_mib: 65536 disk_mib: 102400 })pb");
  HostView busy = Host(R"pb(host_id: "busy"
                            total { vcpus: 16 memory_mib: 65536 disk_mib: 102400 }
                            reserved { memory_mib: 60000 })pb");
  const std::vector<HostView> hosts = {Silent(empty, absl::Seconds(16)),
                                       Silent(busy, absl::Seconds(15))};
  EXPECT_THAT(PickHost(hosts, kSmall, kSpread, kNow), IsOkAndHolds("busy"));
}

TEST(PickHost, CpuOvercommitLetsMoreFit) {
  const std::vector<HostView> hosts = {Host(R"pb(host_id: "w1"
                                                 total { vcpus: 4 memory_mib: 16384 }
                                                 reserved { vcpus: 4 })pb")};
  const SandboxNeeds needs = Needs("vcpus: 2 memory_mib: 1024");
  SchedulerPolicy policy = kSpread;
  policy.cpu_overcommit = 1.0;
  EXPECT_THAT(PickHost(hosts, needs, policy, kNow), StatusIs(absl::StatusCode::kResourceExhausted));
  policy.cpu_overcommit = 1.5;
  EXPECT_THAT(PickHost(hosts, needs, policy, kNow), IsOkAndHolds("w1"));
}

TEST(PickHost, MemoryAndDiskOvercommitLetMoreFit) {
  const std::vector<HostView> hosts = {
      Host(R"pb(host_id: "w1"
                total { vcpus: 8 memory_mib: 1001 disk_mib: 1000 }
                reserved { memory_mib: 1000 disk_mib: 1000 })pb")};
  SchedulerPolicy policy = kSpread;
  policy.memory_overcommit = 1.5;  // offers 1501 MiB (1501.5 rounded down)
  policy.disk_overcommit = 2.0;
  EXPECT_THAT(PickHost(hosts, Needs("vcpus: 1 memory_mib: 501 disk_mib: 1000"), policy, kNow),
              IsOkAndHolds("w1"));
  EXPECT_THAT(PickHost(hosts, Needs("vcpus: 1 memory_mib: 502"), policy, kNow),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(PickHost(hosts, Needs("vcpus: 1 disk_mib: 1001"), policy, kNow),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(PickHost, PrefersAHostCachingEveryImageAtSimilarLoad) {
  const std::vector<HostView> hosts = {
      Host(R"pb(host_id: "60-free-no-images"
                total { vcpus: 16 memory_mib: 10000 }
                reserved { memory_mib: 4000 })pb"),
      Host(R"pb(host_id: "55-free-some-images"
                total { vcpus: 16 memory_mib: 10000 }
                reserved { memory_mib: 4500 }
                images: "tiny")pb"),
      Host(R"pb(host_id: "50-free-all-images"
                total { vcpus: 16 memory_mib: 10000 }
                reserved { memory_mib: 5000 }
                images: "debian"
                images: "router"
                images: "tiny")pb"),
  };
  const SandboxNeeds needs = Needs("vcpus: 1", {"router", "tiny"});
  EXPECT_THAT(PickHost(hosts, needs, kSpread, kNow), IsOkAndHolds("50-free-all-images"));
  EXPECT_THAT(PickHost(hosts, needs, kPack, kNow), IsOkAndHolds("50-free-all-images"));
}

TEST(PickHost, CachedImagesDoNotOutweighAMuchFullerHost) {
  const std::vector<HostView> hosts = {
      Host(R"pb(host_id: "90-free"
                total { vcpus: 16 memory_mib: 10000 }
                reserved { memory_mib: 1000 })pb"),
      Host(R"pb(host_id: "30-free-cached"
                total { vcpus: 16 memory_mib: 10000 }
                reserved { memory_mib: 7000 }
                images: "tiny")pb"),
  };
  EXPECT_THAT(PickHost(hosts, Needs("vcpus: 1", {"tiny"}), kSpread, kNow), IsOkAndHolds("90-free"));
}

TEST(PickHost, BreaksTiesByHostIdWhateverTheOrder) {
  const std::string shape = R"pb(total { vcpus: 8 memory_mib: 8192 disk_mib: 8192 }
                                 reserved { vcpus: 2 memory_mib: 1024 })pb";
  std::vector<HostView> hosts = {Host("host_id: 'w2' " + shape), Host("host_id: 'w1' " + shape),
                                 Host("host_id: 'w3' " + shape)};
  EXPECT_THAT(PickHost(hosts, kSmall, kSpread, kNow), IsOkAndHolds("w1"));
  EXPECT_THAT(PickHost(hosts, kSmall, kPack, kNow), IsOkAndHolds("w1"));
  std::reverse(hosts.begin(), hosts.end());
  EXPECT_THAT(PickHost(hosts, kSmall, kSpread, kNow), IsOkAndHolds("w1"));
}

TEST(PickHost, HostReportingNoDiskTakesOnlySandboxesWithoutBlankDisks) {
  const std::vector<HostView> hosts = {Host(R"pb(host_id: "diskless"
                                                 total { vcpus: 8 memory_mib: 8192 })pb")};
  EXPECT_THAT(PickHost(hosts, Needs("vcpus: 1 memory_mib: 512"), kSpread, kNow),
              IsOkAndHolds("diskless"));
  EXPECT_THAT(PickHost(hosts, Needs("vcpus: 1 memory_mib: 512 disk_mib: 1"), kSpread, kNow),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("1 reports no disk")));
}

TEST(PickHostRefusal, WithoutHostsSaysNoneAreRegistered) {
  EXPECT_THAT(PickHost({}, Needs("vcpus: 3 memory_mib: 1536 disk_mib: 4096"), kSpread, kNow),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "no host can fit: needs 3 vCPU, 1536 MiB memory, 4096 MiB disk; "
                       "no hosts are registered"));
}

TEST(PickHostRefusal, NamesDrainedHostsAndTheMemoryFree) {
  const std::vector<HostView> hosts = {
      Host(R"pb(host_id: "w1"
                drained: true
                total { vcpus: 16 memory_mib: 65536 disk_mib: 102400 })pb"),
      Host(R"pb(host_id: "w2"
                total { vcpus: 16 memory_mib: 8192 disk_mib: 102400 }
                reserved { memory_mib: 7168 })pb"),
  };
  EXPECT_THAT(PickHost(hosts, Needs("vcpus: 3 memory_mib: 1536 disk_mib: 4096"), kSpread, kNow),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "no host can fit: needs 3 vCPU, 1536 MiB memory, 4096 MiB disk; "
                       "of 2 hosts: 1 drained, 1 has only 1024 MiB memory free"));
}

TEST(PickHostRefusal, NamesSilentHostsWithTheirSilenceAndTheTimeout) {
  const HostView host = Host(R"pb(host_id: "w1"
                                  total { vcpus: 16 memory_mib: 65536 disk_mib: 102400 })pb");
  EXPECT_THAT(PickHost({Silent(host, absl::Seconds(40))}, kSmall, kSpread, kNow),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("of 1 host: 1 has sent no heartbeat for 40s (timeout 15s)")));
  EXPECT_THAT(
      PickHost({Silent(host, absl::Minutes(2)), Silent(host, absl::Milliseconds(39500))}, kSmall,
               kSpread, kNow),
      StatusIs(absl::StatusCode::kResourceExhausted,
               HasSubstr("of 2 hosts: 2 have sent no heartbeat for 40s or longer (timeout 15s)")));
}

TEST(PickHostRefusal, NamesVcpusFreeWithTheOvercommit) {
  const std::vector<HostView> hosts = {
      Host(R"pb(host_id: "w1"
                total { vcpus: 4 memory_mib: 65536 disk_mib: 102400 }
                reserved { vcpus: 14 })pb")};
  EXPECT_THAT(PickHost(hosts, Needs("vcpus: 3"), kSpread, kNow),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("of 1 host: 1 has only 2 vCPU free at 4x overcommit")));
}

TEST(PickHostRefusal, GivesTheMostFreeAmongHostsShortOfOneResource) {
  const std::vector<HostView> hosts = {
      Host(R"pb(host_id: "w1"
                total { vcpus: 8 memory_mib: 4096 disk_mib: 10240 }
                reserved { memory_mib: 3584 disk_mib: 9216 })pb"),
      Host(R"pb(host_id: "w2"
                total { vcpus: 8 memory_mib: 4096 disk_mib: 10240 }
                reserved { memory_mib: 3072 disk_mib: 8192 })pb"),
      Host(R"pb(host_id: "w3"
                total { vcpus: 8 memory_mib: 4096 disk_mib: 10240 }
                reserved { memory_mib: 3840 disk_mib: 10000 })pb"),
  };
  EXPECT_THAT(PickHost(hosts, Needs("vcpus: 1 memory_mib: 2048 disk_mib: 4096"), kSpread, kNow),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("of 3 hosts: 3 have at most 1024 MiB memory free, "
                                 "3 have at most 2048 MiB disk free")));
}

TEST(PickHostRefusal, CountsAHostUnderEveryResourceItLacks) {
  const std::vector<HostView> hosts = {Host(R"pb(host_id: "w1"
                                                 total { vcpus: 1 memory_mib: 1024 disk_mib: 2048 }
                                                 reserved { vcpus: 3 })pb")};
  EXPECT_THAT(PickHost(hosts, Needs("vcpus: 2 memory_mib: 2048 disk_mib: 4096"), kSpread, kNow),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "no host can fit: needs 2 vCPU, 2048 MiB memory, 4096 MiB disk; "
                       "of 1 host: 1 has only 1 vCPU free at 4x overcommit, "
                       "1 has only 1024 MiB memory free, 1 has only 2048 MiB disk free"));
}

TEST(PickHostRefusal, ShowsAnOverreservedHostAsZeroFree) {
  const std::vector<HostView> hosts = {Host(R"pb(host_id: "w1"
                                                 total { vcpus: 8 memory_mib: 4096 }
                                                 reserved { memory_mib: 6000 })pb")};
  EXPECT_THAT(
      PickHost(hosts, Needs("vcpus: 1 memory_mib: 512"), kSpread, kNow),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("1 has only 0 MiB memory free")));
}

TEST(FittingHosts, ListsEveryHostThatPassesTheFilterInInputOrder) {
  std::vector<HostView> hosts = ThreeLoads();
  hosts[1].drained = true;
  EXPECT_THAT(FittingHosts(hosts, kSmall, kSpread, kNow), ElementsAre("quarter-free", "half-free"));
  EXPECT_THAT(FittingHosts(hosts, Needs("memory_mib: 20000"), kSpread, kNow), IsEmpty());
}

const char kSmokeTopology[] = R"pb(
  name: "smoke"
  nodes { name: "server" image: "tiny" vcpus: 1 memory_mib: 512 }
  nodes {
    name: "storage"
    image: "tiny"
    vcpus: 1
    memory_mib: 512
    disks { name: "d1" size_mib: 1024 }
    disks { name: "d2" size_mib: 2048 }
  }
  nodes { name: "router" image: "router" vcpus: 2 memory_mib: 256 }
)pb";

TEST(NeedsOf, SumsNodesAndBlankDisks) {
  const v1::Capacity needs = NeedsOf(Parse<v1::Topology>(kSmokeTopology));
  EXPECT_EQ(needs.vcpus(), 4u);
  EXPECT_EQ(needs.memory_mib(), 1280u);
  EXPECT_EQ(needs.disk_mib(), 3072u);
}

TEST(NeedsOf, EmptyTopologyNeedsNothing) {
  const v1::Capacity needs = NeedsOf(v1::Topology());
  EXPECT_EQ(needs.vcpus(), 0u);
  EXPECT_EQ(needs.memory_mib(), 0u);
  EXPECT_EQ(needs.disk_mib(), 0u);
}

TEST(ImagesOf, ListsEachImageOnceSorted) {
  EXPECT_THAT(ImagesOf(Parse<v1::Topology>(kSmokeTopology)), ElementsAre("router", "tiny"));
  EXPECT_THAT(ImagesOf(v1::Topology()), IsEmpty());
}

// Two sites joined by a shaped WAN, plus an unshaped LAN.
const char kTwoSitesTopology[] = R"pb(
  name: "two-sites"
  networks {
    name: "wan"
    shape { bandwidth_kbps: 10000 latency_ms: 40 loss_percent: 0.5 }
  }
  networks { name: "lan" }
  nodes {
    name: "r1"
    image: "tiny"
    vcpus: 1
    memory_mib: 128
    nics { network: "wan" }
    nics { network: "lan" }
  }
  nodes {
    name: "r2"
    image: "tiny"
    vcpus: 1
    memory_mib: 128
    nics { network: "wan" }
  }
)pb";

TEST(NeedsOf, ReservesOneLinkEmulatorPerShapedNetwork) {
  const v1::Topology topology = Parse<v1::Topology>(kTwoSitesTopology);
  v1::Topology unshaped = topology;
  unshaped.mutable_networks(0)->clear_shape();
  const v1::Capacity shaped_needs = NeedsOf(topology);
  const v1::Capacity plain_needs = NeedsOf(unshaped);
  EXPECT_EQ(shaped_needs.vcpus(), plain_needs.vcpus() + kLinkEmulatorVcpus);
  EXPECT_EQ(shaped_needs.memory_mib(), plain_needs.memory_mib() + kLinkEmulatorMemoryMib);
  EXPECT_EQ(shaped_needs.disk_mib(), plain_needs.disk_mib());
  EXPECT_GE(kLinkEmulatorMemoryMib, 64u);
  EXPECT_LE(kLinkEmulatorMemoryMib, 128u);
}

TEST(ImagesOf, AddsTheLinkEmulatorImageForAShapedNetwork) {
  v1::Topology topology = Parse<v1::Topology>(kTwoSitesTopology);
  EXPECT_THAT(ImagesOf(topology), ElementsAre(kLinkEmulatorImage, "tiny"));
  topology.mutable_networks(0)->clear_shape();
  EXPECT_THAT(ImagesOf(topology), ElementsAre("tiny"));
}

}  // namespace
}  // namespace labrack::controller
