// SealBridgeFromHost on a real bridge: a network namespace plugged into a fresh bridge (a
// guest stand-in) gets the host's ARP answer for an address of the host before the seal,
// and none after; an IPv4 packet it then sends to the host is dropped by reverse-path
// filtering (the kernel's counter says so), and the bridge has no IPv6. Needs root (CI is);
// every interface and namespace made is removed, also on failure.
#include "worker/hypervisor/bridge_isolation.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

// What `command` printed (stdout and stderr); `ok` says whether it exited 0.
std::string Sh(const std::string& command, bool* ok = nullptr) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return "popen failed";
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int status = pclose(p);
  if (ok != nullptr) *ok = status == 0;
  return out;
}

// The kernel's count of packets dropped by reverse-path filtering.
long ReversePathDrops() {
  std::ifstream in("/proc/net/netstat");
  std::string keys, values;
  while (std::getline(in, keys) && std::getline(in, values)) {
    if (keys.rfind("TcpExt:", 0) != 0) continue;
    std::vector<std::string> k = absl::StrSplit(keys, ' ');
    std::vector<std::string> v = absl::StrSplit(values, ' ');
    for (size_t i = 0; i < k.size() && i < v.size(); ++i) {
      if (k[i] == "IPReversePathFilter") return std::stol(v[i]);
    }
  }
  return -1;
}

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(BridgeIsolation, RefusesANameThatIsNotAnInterfaceAndSaysWhichFileFailed) {
  EXPECT_THAT(SealBridgeFromHost("../all"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                     HasSubstr("not an interface name")));
  EXPECT_THAT(SealBridgeFromHost("sixteen-chars-xx"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SealBridgeFromHost("lrnosuchbr0"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("/net/ipv4/conf/lrnosuchbr0/arp_ignore")));
}

TEST(BridgeIsolation, ListsOnlyBridgesNamedAsLabrackNamesThem) {
  const std::string dir = ::testing::TempDir() + "/sys-class-net-" + std::to_string(getpid());
  absl::Cleanup cleanup = [&] { std::filesystem::remove_all(dir); };
  for (const char* made : {"lr0123abcd0/bridge", "lr0123abcd1", "lr0123abcdv0001/bridge",
                           "virbr0/bridge", "lrtbr1/bridge"}) {
    std::filesystem::create_directories(absl::StrCat(dir, "/", made));
  }
  EXPECT_THAT(ListLabrackBridges(dir), ::testing::ElementsAre("lr0123abcd0"));
  EXPECT_THAT(ListLabrackBridges(dir + "/none"), ::testing::IsEmpty());
}

TEST(BridgeIsolation, ASealedBridgeGivesAGuestNoWayIntoTheHost) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make a bridge and a namespace";
  const std::string n = std::to_string(getpid() % 100000);
  const std::string bridge = "lrtbr" + n, ns = "lrtns" + n, veth = "lrtv" + n,
                    peer = "lrtp" + n, dummy = "lrtd" + n;
  // A host address that is not on the bridge: TEST-NET-2, on a veth of the host's own.
  const std::string host_ip = "198.51.100.7";
  absl::Cleanup cleanup = [&] {
    Sh("ip netns del " + ns);
    Sh("ip link del " + bridge);
    Sh("ip link del " + dummy);
  };
  bool ok = false;
  std::string out = Sh(absl::StrCat(
      "set -e; ip link add ", bridge, " type bridge; ip link set ", bridge, " up; ",
      "ip link add ", dummy, " type veth peer name ", dummy, "e; ip addr add ", host_ip,
      "/32 dev ", dummy, "; ip link set ", dummy, " up; ip netns add ", ns, "; ip link add ", veth,
      " type veth peer name ", peer, "; ip link set ", peer, " master ", bridge, "; ip link set ",
      peer, " up; ip link set ", veth, " netns ", ns, "; ip netns exec ", ns, " ip link set ",
      veth, " up; ip netns exec ", ns, " ip addr add 10.99.0.5/24 dev ", veth,
      "; ip netns exec ", ns, " ip route add ", host_ip, "/32 dev ", veth), &ok);
  ASSERT_TRUE(ok) << out;
  const std::string arping =
      absl::StrCat("ip netns exec ", ns, " busybox arping -c 2 -w 3 -I ", veth, " ", host_ip);
  out = Sh(arping);
  if (out.find("Received 0 response") != std::string::npos) {
    GTEST_SKIP() << "this host answers no ARP on an address-less bridge even unsealed: " << out;
  }
  ASSERT_THAT(out, HasSubstr("Received 2 response")) << "the unsealed bridge should leak";

  ASSERT_OK(SealBridgeFromHost(bridge));
  EXPECT_EQ(ReadLine("/proc/sys/net/ipv4/conf/" + bridge + "/arp_ignore"), "8");
  EXPECT_EQ(ReadLine("/proc/sys/net/ipv4/conf/" + bridge + "/rp_filter"), "1");
  EXPECT_EQ(ReadLine("/proc/sys/net/ipv6/conf/" + bridge + "/disable_ipv6"), "1");
  EXPECT_THAT(Sh(arping), HasSubstr("Received 0 response")) << "the host still answers ARP";

  // Even knowing the bridge's MAC, a packet to the host is dropped on arrival.
  const std::string mac = ReadLine("/sys/class/net/" + bridge + "/address");
  Sh(absl::StrCat("ip netns exec ", ns, " ip neigh replace ", host_ip, " lladdr ", mac, " dev ", veth));
  const long before = ReversePathDrops();
  out = Sh(absl::StrCat("ip netns exec ", ns, " busybox ping -c 3 -W 1 ", host_ip));
  EXPECT_THAT(out, HasSubstr("0 packets received"));
  EXPECT_GE(ReversePathDrops() - before, 3) << "the host's stack took the packets";
  EXPECT_THAT(Sh("ip -6 addr show dev " + bridge), ::testing::Not(HasSubstr("inet6")));
}

}  // namespace
}  // namespace labrack::worker
