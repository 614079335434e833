// The port filter (nft_port_filter.h) on this host: LibvirtHypervisor makes, replaces, lists
// and removes it as a real nftables table; guests of a sandbox are held to their own MAC
// and address by it and by no nwfilter state in libvirtd, so a libvirtd killed with
// SIGKILL changes nothing (under nwfilter it left ebtables chains behind, and the next
// start of a guest on the same tap failed with "Chain already exists").
#include <fcntl.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/uuid.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/libvirt/libvirt_env.h"
#include "tests/testing/status_matchers.h"
#include "worker/host/host_command.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::GuestShell;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTopology[] = R"pb(
  name: "port-filter"
  networks { name: "lan" cidr: "10.57.1.0/24" }
  nodes {
    name: "a" role: NODE_ROLE_SERVER image: "tiny" vcpus: 1 memory_mib: 128
    nics { network: "lan" }
  }
  nodes {
    name: "b" role: NODE_ROLE_SERVER image: "tiny" vcpus: 1 memory_mib: 128
    nics { network: "lan" }
  }
)pb";

std::string HostOutput(const std::vector<std::string>& argv) {
  absl::StatusOr<std::string> out = RunHostCommandWithIo(argv, "", absl::Seconds(30));
  EXPECT_OK(out) << argv[0];
  return out.ok() ? *out : "";
}

bool HasTable(const std::string& sandbox_id) {
  return absl::StrContains(HostOutput({"nft", "list", "tables", "bridge"}),
                           absl::StrCat("table bridge lr-", Sandbox8(sandbox_id), "\n"));
}

// What libvirt's nwfilter keeps for guests: its bindings, and ebtables chains of every table
// (ebtables-nft shows them in nft's bridge family; only our own table may name the taps).
std::string NwfilterState() {
  std::string out = HostOutput({"virsh", "-c", "qemu:///system", "nwfilter-binding-list"});
  for (const char* table : {"filter", "nat", "broute"}) {
    absl::StatusOr<std::string> chains =
        RunHostCommandWithIo({"ebtables", "-t", table, "-L"}, "", absl::Seconds(30));
    if (chains.ok()) absl::StrAppend(&out, *chains);  // a table that does not exist is none
  }
  return out;
}

// Marks every descriptor above stderr close-on-exec. The test runs under
// `flock /tmp/labrack-libvirt-tests.lock`, whose descriptor it inherits; a libvirtd started
// from here would inherit it too and hold the lock for as long as it runs.
void KeepDescriptorsFromChildren() {
  std::error_code ec;
  std::vector<int> fds;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    fds.push_back(std::atoi(e.path().filename().c_str()));
  }
  for (int fd : fds) {
    if (fd > 2) fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
  }
}

// Kills libvirtd with SIGKILL and starts it again as the deploy script does.
void KillAndRestartLibvirtd() {
  KeepDescriptorsFromChildren();
  int pid = 0;
  std::ifstream("/run/libvirtd.pid") >> pid;
  ASSERT_GT(pid, 1);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_OK(RunHostCommand({"bash", absl::StrCat(getenv("LABRACK_SOURCE_DIR"), "/deploy/start-libvirt.sh")},
                           absl::Seconds(60)));
}

class PortFilterLibvirt : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.Start();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kTopology, &topology_));
  }
  void TearDown() override { env_.Stop(); }  // destroys every sandbox, checks for leftovers

  std::unique_ptr<GuestShell> Shell(const std::string& id, const std::string& node) {
    auto shell = env_.Shell(id, node);
    EXPECT_OK(shell);
    return shell.ok() ? *std::move(shell) : nullptr;
  }
  // "exit=0" when `to` answered a ping from `from`.
  static std::string Ping(GuestShell& from, const std::string& to) {
    auto out = from.Run(absl::StrCat("ping -c 2 -W 2 ", to, " >/dev/null 2>&1"));
    return out.ok() ? *out : std::string(out.status().message());
  }
  // Moves node a of the sandbox from address `from` to `to` on its eth0.
  static void MoveAddress(GuestShell& shell, const std::string& from, const std::string& to) {
    auto out = shell.Run(absl::StrCat("ip addr del ", from, "/24 dev eth0; ip addr add ", to,
                                      "/24 dev eth0; ip neigh flush dev eth0"));
    EXPECT_OK(out);
  }
  static std::string Address(const v1::SandboxStatus& st, int node) {
    const std::string& a = st.nodes(node).addresses(0);
    return a.substr(0, a.find('/'));
  }

  LibvirtEnv env_;
  v1::Topology topology_;
};

TEST_F(PortFilterLibvirt, TheHypervisorMakesReplacesListsAndRemovesTheTable) {
  const std::string id = NewUuid4();
  LibvirtHypervisor& hv = env_.hypervisor();
  absl::Cleanup gone = [&] { hv.RemovePortFilter(id).IgnoreError(); };
  PortFilterSpec spec{id, env_.host_id(), {{"lr" + Sandbox8(id) + "v0000", "52:54:00:0a:00:0b", "10.57.9.1"}}};
  ASSERT_OK(hv.ApplyPortFilter(spec));
  EXPECT_TRUE(HasTable(id));
  EXPECT_THAT(*hv.ListPortFilters(), Contains(PortFilterInfo{Sandbox8(id), id, env_.host_id()}));
  // Applied again with another port: the table holds exactly the new rules.
  spec.ports[0] = {"lr" + Sandbox8(id) + "v0100", "52:54:00:0a:01:0c", "10.57.9.2"};
  ASSERT_OK(hv.ApplyPortFilter(spec));
  const std::string table = HostOutput({"nft", "list", "table", "bridge", "lr-" + Sandbox8(id)});
  EXPECT_THAT(table, HasSubstr("10.57.9.2"));
  EXPECT_THAT(table, Not(HasSubstr("10.57.9.1")));
  ASSERT_OK(hv.RemovePortFilter(id));
  EXPECT_FALSE(HasTable(id));
  EXPECT_OK(hv.RemovePortFilter(id)) << "removing an absent filter is fine";
}

TEST_F(PortFilterLibvirt, GuestsAreHeldToTheirAddressWithoutNwfilterAndAKilledLibvirtdChangesNothing) {
  const std::string id = NewUuid4();
  auto st = env_.Create(id, topology_, /*wait_ready=*/true);
  ASSERT_OK(st);
  ASSERT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->message();
  const std::string a = Address(*st, 0), b = Address(*st, 1);
  const std::string tap_a = TapName(id, 0, 0), tap_b = TapName(id, 1, 0);
  EXPECT_TRUE(HasTable(id));
  EXPECT_THAT(NwfilterState(), Not(HasSubstr(tap_a)));
  EXPECT_THAT(NwfilterState(), Not(HasSubstr(tap_b)));

  auto check_filtering = [&](const char* when) {
    SCOPED_TRACE(when);
    std::unique_ptr<GuestShell> shell = Shell(id, "a");
    ASSERT_NE(shell, nullptr);
    EXPECT_THAT(Ping(*shell, b), HasSubstr("exit=0")) << "a must reach b first";
    MoveAddress(*shell, a, "10.57.1.200");
    EXPECT_THAT(Ping(*shell, b), HasSubstr("exit=1")) << "a spoofed address still reached b";
    MoveAddress(*shell, "10.57.1.200", a);
    EXPECT_THAT(Ping(*shell, b), HasSubstr("exit=0")) << "its own address back, a is heard";
  };
  check_filtering("before libvirtd is killed");
  if (HasFatalFailure()) return;

  KillAndRestartLibvirtd();
  if (HasFatalFailure()) return;
  EXPECT_TRUE(HasTable(id));
  check_filtering("after libvirtd was killed and started again");
  if (HasFatalFailure()) return;

  // Destroyed and made again on the same taps: nothing of the first guests stands in the way.
  ASSERT_OK(env_.Destroy(id));
  EXPECT_FALSE(HasTable(id));
  st = env_.Create(id, topology_, true);
  ASSERT_OK(st);
  ASSERT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->message();
  check_filtering("in the sandbox made again");
  EXPECT_THAT(NwfilterState(), Not(HasSubstr(tap_a)));
}

}  // namespace
}  // namespace labrack::worker
