// Tests of PlanSandbox for shaped links: bandwidth on both ends, the split into two halves
// with a hidden emulator on hosts without netem, and none on hosts with it.
#include "worker/sandbox/sandbox_plan.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/topology/link_shape.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr char kSandbox[] = "0123abcd-0000-4000-8000-000000000001";

// Two routers joined by a shaped WAN; r1 also has an unshaped LAN with a server.
constexpr char kTwoSites[] = R"pb(
  name: "two-sites"
  networks {
    name: "wan"
    cidr: "10.99.0.0/30"
    shape { bandwidth_kbps: 10000 latency_ms: 40 loss_percent: 0.5 }
  }
  networks { name: "lan" cidr: "10.1.0.0/24" }
  nodes {
    name: "r1"
    role: NODE_ROLE_ROUTER
    image: "tiny"
    vcpus: 1
    memory_mib: 128
    nics { network: "lan" }
    nics { network: "wan" }
  }
  nodes {
    name: "srv"
    role: NODE_ROLE_SERVER
    image: "tiny"
    vcpus: 1
    memory_mib: 128
    nics { network: "lan" }
  }
  nodes {
    name: "r2"
    role: NODE_ROLE_ROUTER
    image: "tiny"
    vcpus: 1
    memory_mib: 128
    nics { network: "wan" }
  }
)pb";

v1::SandboxSpec Spec(const char* topology = kTwoSites) {
  v1::SandboxSpec spec;
  spec.set_sandbox_id(kSandbox);
  spec.set_generation(1);
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(topology, spec.mutable_topology()));
  return spec;
}

// Every image exists, except those in `missing`.
PlanContext Context(bool host_has_netem, std::set<std::string> missing = {}) {
  PlanContext ctx;
  ctx.host_id = "host-a";
  ctx.pool = "labrack-host-a";
  ctx.pool_dir = "/state/volumes";
  ctx.sandbox_dir = absl::StrCat("/state/sandboxes/", kSandbox);
  ctx.host_has_netem = host_has_netem;
  ctx.resolve_image = [missing](const std::string& name) -> absl::StatusOr<CachedImage> {
    if (missing.contains(name)) return absl::NotFoundError(absl::StrCat("no image ", name));
    CachedImage image;
    image.manifest.set_name(name);
    image.manifest.set_cmdline("console=ttyS0");
    image.disk_path = absl::StrCat("/images/", name, "/disk.qcow2");
    image.disk_format = "qcow2";
    image.disk_virtual_bytes = 64 << 20;
    image.kernel_path = absl::StrCat("/images/", name, "/vmlinuz");
    image.initrd_path = absl::StrCat("/images/", name, "/initrd.img");
    return image;
  };
  return ctx;
}

const NodePlan* FindNode(const SandboxPlan& plan, const std::string& node) {
  for (const NodePlan& n : plan.nodes) {
    if (n.node == node) return &n;
  }
  return nullptr;
}

std::vector<std::string> NetworkNames(const SandboxPlan& plan) {
  std::vector<std::string> names;
  for (const NetworkSpec& n : plan.networks) names.push_back(n.name);
  return names;
}

TEST(SandboxPlan, EveryGuestGetsTheConsolePasswordHashOnItsCommandLine) {
  v1::SandboxSpec spec = Spec();
  spec.set_console_password_hash("$6$0123456789abcdef$Zq0J6kG.7fT0mO1uY5c2a/b");
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(spec, Context(/*host_has_netem=*/true));
  ASSERT_OK(plan);
  for (const NodePlan& n : plan->nodes) {
    EXPECT_THAT(n.domain.cmdline,
                HasSubstr(" labrack.password_hash=$6$0123456789abcdef$Zq0J6kG.7fT0mO1uY5c2a/b"))
        << n.node;
  }
  EXPECT_THAT(FindNode(*PlanSandbox(Spec(), Context(true)), "r1")->domain.cmdline,
              Not(HasSubstr("labrack.password_hash")));
}

TEST(SandboxPlan, ANodeOfALayeredImageStatesItsWholeBackingChain) {
  PlanContext ctx = Context(/*host_has_netem=*/true);
  ctx.resolve_image = [plain = ctx.resolve_image](const std::string& name)
      -> absl::StatusOr<CachedImage> {
    absl::StatusOr<CachedImage> image = plain(name);
    if (image.ok() && name == "tiny-captured") {
      image->backing_chain = {{"/images/blobs/base", "raw"}};
    }
    return image;
  };
  v1::SandboxSpec spec = Spec();
  spec.mutable_topology()->mutable_nodes(1)->set_image("tiny-captured");
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(spec, ctx);
  ASSERT_OK(plan);
  const NodePlan* srv = FindNode(*plan, "srv");
  ASSERT_NE(srv, nullptr);
  // The pool makes the overlay on the layer, naming its format ...
  EXPECT_EQ(srv->volumes[0].backing_path, "/images/tiny-captured/disk.qcow2");
  EXPECT_EQ(srv->volumes[0].backing_format, DiskFormat::kQcow2);
  // ... and the domain states overlay -> layer -> base, each with its format.
  ASSERT_EQ(srv->domain.disks.size(), 1u);
  EXPECT_EQ(srv->domain.disks[0].backing,
            (std::vector<BackingFile>{{"/images/tiny-captured/disk.qcow2", DiskFormat::kQcow2},
                                      {"/images/blobs/base", DiskFormat::kRaw}}));
  // A node of a plain image has one level.
  EXPECT_EQ(FindNode(*plan, "r1")->domain.disks[0].backing,
            (std::vector<BackingFile>{{"/images/tiny/disk.qcow2", DiskFormat::kQcow2}}));
}

TEST(SandboxPlan, AHashThatCouldAddKernelArgumentsIsRefused) {
  v1::SandboxSpec spec = Spec();
  spec.set_console_password_hash("$6$x$y init=/bin/sh");
  EXPECT_THAT(PlanSandbox(spec, Context(true)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("console_password_hash")));
}

TEST(SandboxPlanShapedLink, WithoutHostNetemSplitsTheLinkAroundAHiddenEmulator) {
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(Spec(), Context(/*host_has_netem=*/false));
  ASSERT_OK(plan);
  const std::string a = NetworkName(kSandbox, "wan.a");
  const std::string b = NetworkName(kSandbox, "wan.b");
  EXPECT_THAT(NetworkNames(*plan), UnorderedElementsAre(a, b, NetworkName(kSandbox, "lan")));
  std::set<std::string> bridges;
  for (const NetworkSpec& n : plan->networks) bridges.insert(n.bridge);
  EXPECT_EQ(bridges.size(), plan->networks.size()) << "each half needs its own bridge";

  // One end of the link on each half; the LAN is untouched.
  const NodePlan* r1 = FindNode(*plan, "r1");
  const NodePlan* r2 = FindNode(*plan, "r2");
  ASSERT_NE(r1, nullptr);
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r1->domain.nics[0].network, NetworkName(kSandbox, "lan"));
  EXPECT_EQ(r1->domain.nics[1].network, a);
  EXPECT_EQ(r2->domain.nics[0].network, b);

  // The emulator joins both halves, boots the linkemu image and gets the shape as a
  // kernel argument: delay = the one-way latency, loss per direction.
  const NodePlan* emu = FindNode(*plan, "wan.emu");
  ASSERT_NE(emu, nullptr);
  ASSERT_EQ(emu->domain.nics.size(), 2u);
  EXPECT_EQ(emu->domain.nics[0].network, a);
  EXPECT_EQ(emu->domain.nics[1].network, b);
  EXPECT_EQ(emu->domain.nics[0].filter_ip, "");
  EXPECT_EQ(emu->domain.name, DomainName(kSandbox, "wan.emu"));
  EXPECT_EQ(emu->domain.kernel, absl::StrCat("/images/", kLinkEmulatorImage, "/vmlinuz"));
  EXPECT_EQ(emu->domain.vcpus, kLinkEmulatorVcpus);
  EXPECT_EQ(emu->domain.memory_mib, kLinkEmulatorMemoryMib);
  EXPECT_THAT(emu->domain.cmdline, HasSubstr(" labrack.netem=delay=40ms,loss=0.5%,rate=10000kbit"));
  EXPECT_THAT(emu->domain.cmdline, HasSubstr(" labrack.node=wan.emu"));
  EXPECT_THAT(emu->domain.cmdline, Not(HasSubstr("labrack.ip=")));
  EXPECT_EQ(emu->domain.tag.sandbox_id, kSandbox);
  EXPECT_TRUE(emu->addresses.empty());
  // Its volume is named like the sandbox's others, so destroy sweeps it with them.
  ASSERT_FALSE(emu->volumes.empty());
  EXPECT_EQ(emu->volumes[0].name.rfind(absl::StrCat(kObjectPrefix, "0123abcd-"), 0), 0u);
  // No other node gets the netem argument.
  for (const NodePlan& n : plan->nodes) {
    if (&n == emu) continue;
    EXPECT_THAT(n.domain.cmdline, Not(HasSubstr("labrack.netem"))) << n.node;
  }
}

TEST(SandboxPlanShapedLink, WithHostNetemBothEndsGetANamedTapWithNetemAndTheRate) {
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(Spec(), Context(/*host_has_netem=*/true));
  ASSERT_OK(plan);
  const DomainNic& r1_wan = FindNode(*plan, "r1")->domain.nics[1];
  const DomainNic& r2_wan = FindNode(*plan, "r2")->domain.nics[0];
  EXPECT_EQ(r1_wan.host_netem, "delay 40ms loss 0.5% rate 10000kbit");
  EXPECT_EQ(r2_wan.host_netem, "delay 40ms loss 0.5% rate 10000kbit");
  // r1 is node 0 (NIC 1), r2 node 2 (NIC 0): names tc can find, unique on the host.
  EXPECT_EQ(r1_wan.tap, "lr0123abcdv0001");
  EXPECT_EQ(r2_wan.tap, "lr0123abcdv0200");
  EXPECT_EQ(r1_wan.tap, TapName(kSandbox, 0, 1));
  // Unshaped NICs get no netem; they keep libvirt's own tap names unless the port filter
  // names them (srv's: a server is filtered, a router not).
  for (const DomainNic* nic : {&FindNode(*plan, "r1")->domain.nics[0], &FindNode(*plan, "srv")->domain.nics[0]}) {
    EXPECT_EQ(nic->host_netem, "");
  }
  EXPECT_EQ(FindNode(*plan, "r1")->domain.nics[0].tap, "");
  EXPECT_EQ(FindNode(*plan, "srv")->domain.nics[0].tap, TapName(kSandbox, 1, 0));
}

// Every NIC with an address on a node that does not forward is filtered, on a tap named
// before the guest exists; routers (and the hidden emulator, a router) are not.
TEST(SandboxPlanPortFilter, NamesTheTapMacAndAddressOfEveryFilteredNic) {
  for (bool netem : {false, true}) {
    absl::StatusOr<SandboxPlan> plan = PlanSandbox(Spec(), Context(netem));
    ASSERT_OK(plan);
    const DomainNic& srv = FindNode(*plan, "srv")->domain.nics[0];
    EXPECT_EQ(plan->port_filter.sandbox_id, kSandbox);
    EXPECT_EQ(plan->port_filter.host_id, Context(netem).host_id);
    ASSERT_EQ(plan->port_filter.ports.size(), 1u) << netem;
    EXPECT_EQ(plan->port_filter.ports[0], (PortGuard{TapName(kSandbox, 1, 0), srv.mac, srv.filter_ip}));
    EXPECT_FALSE(srv.filter_ip.empty());
    EXPECT_EQ(srv.filter_ip.find('/'), std::string::npos) << "an address, not a prefix";
  }
}

// Without netem the emulator does delay, loss and rate; no NIC is shaped on the host.
TEST(SandboxPlanShapedLink, WithoutHostNetemNoNicIsShapedOnTheHost) {
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(Spec(), Context(/*host_has_netem=*/false));
  ASSERT_OK(plan);
  for (const NodePlan& n : plan->nodes) {
    for (const DomainNic& nic : n.domain.nics) {
      EXPECT_EQ(nic.host_netem, "") << n.node;
      // Only the port filter names taps here.
      EXPECT_EQ(nic.tap.empty(), nic.filter_ip.empty()) << n.node;
    }
  }
}

TEST(SandboxPlanShapedLink, WithHostNetemNeedsNoEmulator) {
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(Spec(), Context(/*host_has_netem=*/true));
  ASSERT_OK(plan);
  EXPECT_EQ(plan->nodes.size(), 3u);
  EXPECT_EQ(FindNode(*plan, "wan.emu"), nullptr);
  EXPECT_THAT(NetworkNames(*plan),
              UnorderedElementsAre(NetworkName(kSandbox, "wan"), NetworkName(kSandbox, "lan")));
}

TEST(SandboxPlanShapedLink, BandwidthAloneIsShapedByTheEmulatorOrOnTheHost) {
  v1::SandboxSpec spec = Spec();
  spec.mutable_topology()->mutable_networks(0)->mutable_shape()->set_latency_ms(0);
  spec.mutable_topology()->mutable_networks(0)->mutable_shape()->set_loss_percent(0);
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(spec, Context(/*host_has_netem=*/false));
  ASSERT_OK(plan);
  ASSERT_NE(FindNode(*plan, "wan.emu"), nullptr);
  EXPECT_THAT(FindNode(*plan, "wan.emu")->domain.cmdline,
              HasSubstr(" labrack.netem=rate=10000kbit"));
  plan = PlanSandbox(spec, Context(/*host_has_netem=*/true));
  ASSERT_OK(plan);
  EXPECT_EQ(plan->nodes.size(), 3u);
  EXPECT_EQ(FindNode(*plan, "r2")->domain.nics[0].network, NetworkName(kSandbox, "wan"));
  EXPECT_EQ(FindNode(*plan, "r2")->domain.nics[0].host_netem, "rate 10000kbit");
}

TEST(SandboxPlanShapedLink, AnEmptyShapeNeedsNoEmulator) {
  v1::SandboxSpec spec = Spec();
  spec.mutable_topology()->mutable_networks(0)->mutable_shape()->Clear();
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(spec, Context(false, {kLinkEmulatorImage}));
  ASSERT_OK(plan);
  EXPECT_EQ(plan->nodes.size(), 3u);
}

TEST(SandboxPlanShapedLink, LatencyOnlyLeavesLossOutOfTheKernelArgument) {
  v1::SandboxSpec spec = Spec();
  spec.mutable_topology()->mutable_networks(0)->mutable_shape()->set_loss_percent(0);
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(spec, Context(false));
  ASSERT_OK(plan);
  const NodePlan* emu = FindNode(*plan, "wan.emu");
  ASSERT_NE(emu, nullptr);
  EXPECT_THAT(emu->domain.cmdline, HasSubstr(" labrack.netem=delay=40ms,rate=10000kbit"));
  EXPECT_THAT(emu->domain.cmdline, Not(HasSubstr("loss")));
}

TEST(SandboxPlanShapedLink, MissingEmulatorImageIsNotFoundAndSaysHowToGetIt) {
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(Spec(), Context(false, {kLinkEmulatorImage}));
  EXPECT_THAT(plan,
              StatusIs(absl::StatusCode::kNotFound, AllOf(HasSubstr("networks[0] \"wan\""),
                                                          HasSubstr("images/build.sh linkemu"))));
}

TEST(SandboxPlanShapedLink, UnshapedTopologyIsPlannedAsBefore) {
  v1::SandboxSpec spec = Spec();
  spec.mutable_topology()->mutable_networks(0)->clear_shape();
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(spec, Context(false, {kLinkEmulatorImage}));
  ASSERT_OK(plan);
  EXPECT_EQ(plan->nodes.size(), 3u);
  for (const NodePlan& n : plan->nodes) {
    for (const DomainNic& nic : n.domain.nics) {
      if (nic.filter_ip.empty()) {
        EXPECT_EQ(nic.tap, "") << n.node;  // filtered NICs: see above
      }
      EXPECT_EQ(nic.host_netem, "");
    }
  }
}

}  // namespace
}  // namespace labrack::worker
