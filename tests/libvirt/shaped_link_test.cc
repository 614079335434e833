// A shaped link on real qemu:///system guests, through a real LabWorker: two tiny nodes
// joined by a WAN with 50 ms of one-way latency and 10 Mbit/s. On a host kernel with netem
// the worker shapes the two ends' taps with tc; without (as in CI) it puts the hidden
// link-emulator guest (image linkemu) between them. Either way a ping across the link must
// take twice the latency, and destroy must leave nothing behind.
#include <grpcpp/grpcpp.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/uuid.h"
#include "common/topology/link_shape.h"
#include "common/topology/manifest_yaml.h"
#include "common/topology/topology_yaml.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/libvirt/libvirt_env.h"
#include "tests/testing/guest_probes.h"
#include "tests/testing/guest_shell.h"
#include "tests/testing/status_matchers.h"
#include "worker/client/image_upload.h"
#include "worker/netem_probe.h"
#include "worker/sandbox/sandbox_plan.h"

namespace labrack::worker {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr double kLatencyMs = 50;

constexpr char kTwoSites[] = R"(name: two-sites
networks:
  - name: wan
    cidr: 10.77.0.0/30
    shape: {bandwidth_kbps: 10000, latency_ms: 50, loss_percent: 0}
nodes:
  - {name: site1, role: router, image: tiny, nics: [{network: wan}]}
  - {name: site2, role: router, image: tiny, nics: [{network: wan}]}
)";

class ShapedLink : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new LibvirtEnv();
    env_->Start();  // uploads tiny
    if (::testing::Test::HasFatalFailure()) return;
    std::string dir = absl::StrCat(getenv("LABRACK_SOURCE_DIR"), "/images/out/linkemu");
    auto manifest = LoadImageManifestFile(dir + "/manifest.yaml");
    ASSERT_OK(manifest) << "build it with images/build.sh linkemu";
    ASSERT_OK(UploadImage(env_->stub(), *manifest, dir));
    auto topology = ParseTopologyYaml(kTwoSites, "two-sites.yaml");
    ASSERT_OK(topology);
    id_ = new std::string(NewUuid4());
    absl::StatusOr<v1::SandboxStatus> st = env_->Create(*id_, *topology, /*wait_ready=*/true);
    ASSERT_OK(st);
    ASSERT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->DebugString();
  }

  static void TearDownTestSuite() {
    env_->Stop();  // destroys every sandbox, also after a failure, and checks for leftovers
    delete env_;
    delete id_;
  }

  void SetUp() override {
    if (env_->worker() == nullptr || id_ == nullptr) GTEST_SKIP() << "suite set-up failed";
  }

  // The link emulator runs only on hosts without netem (as in CI).
  static bool HostHasNetem() { return ProbeHostNetem().available; }

  static LibvirtEnv* env_;
  static std::string* id_;
};

LibvirtEnv* ShapedLink::env_ = nullptr;
std::string* ShapedLink::id_ = nullptr;

TEST_F(ShapedLink, TheEmulatorIsHiddenFromTheCandidatesNodes) {
  if (HostHasNetem()) GTEST_SKIP() << "this host has netem: no emulator";
  auto st = env_->Get(*id_);
  ASSERT_OK(st);
  std::vector<std::string> nodes;
  for (const v1::NodeStatus& n : st->nodes()) nodes.push_back(n.name());
  EXPECT_THAT(nodes, UnorderedElementsAre("site1", "site2"));
  // ... but it runs, between the two halves of the link, and said it was ready.
  auto info = env_->hypervisor().GetDomain(DomainName(*id_, "wan.emu"));
  ASSERT_OK(info);
  EXPECT_EQ(info->state, DomainState::kRunning);
  EXPECT_THAT(env_->SerialLog(*id_, "wan.emu"), HasSubstr("LABRACK-READY node=wan.emu"));
  EXPECT_THAT(st->networks(),
              UnorderedElementsAre(NetworkName(*id_, "wan.a"), NetworkName(*id_, "wan.b")));
}

TEST_F(ShapedLink, PingAcrossTheLinkTakesTwiceTheLatency) {
  auto site1 = env_->Shell(*id_, "site1");
  ASSERT_OK(site1);
  absl::StatusOr<testing::PingSummary> ping = testing::PingFromGuest(**site1, "10.77.0.2", 10);
  ASSERT_OK(ping);
  std::printf("ping across the shaped link: min/avg/max %.1f/%.1f/%.1f ms\n", ping->min_ms,
              ping->avg_ms, ping->max_ms);
  EXPECT_EQ(ping->received, 10) << "the link declares no loss";
  // One way is half the round trip; declared 50 ms, allowed within 20 %.
  EXPECT_NEAR(ping->avg_ms / 2, kLatencyMs, kLatencyMs * 0.2);
  EXPECT_GE(ping->min_ms / 2, kLatencyMs * 0.8) << "netem delays every packet";
}

TEST_F(ShapedLink, TheEmulatorOffersNoShellOnItsConsole) {
  if (HostHasNetem()) GTEST_SKIP() << "this host has netem: no emulator";
  auto console = testing::GuestShell::Open(
      &env_->hypervisor(), DomainName(*id_, "wan.emu"),
      SerialLogPath(absl::StrCat(env_->state_dir(), "/sandboxes/", *id_), "wan.emu"));
  ASSERT_OK(console);
  EXPECT_THAT((*console)->Run("echo hello", absl::Seconds(5)),
              ::labrack::testing::StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(ShapedLink, TheEmulatorCountsAgainstTheHostsCapacity) {
  if (HostHasNetem()) GTEST_SKIP() << "this host has netem: no emulator";
  auto topology = ParseTopologyYaml(kTwoSites, "two-sites.yaml");
  ASSERT_OK(topology);
  uint32_t vcpus = kLinkEmulatorVcpus;
  uint64_t memory_mib = kLinkEmulatorMemoryMib;
  for (const v1::Node& node : topology->nodes()) {
    vcpus += node.vcpus();
    memory_mib += node.memory_mib();
  }
  v1::Capacity allocated = env_->worker()->sandboxes().Allocated();
  EXPECT_EQ(allocated.vcpus(), vcpus);
  EXPECT_EQ(allocated.memory_mib(), memory_mib);
}

}  // namespace
}  // namespace labrack::worker
