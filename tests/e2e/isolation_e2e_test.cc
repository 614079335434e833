// Isolation, attacked from inside real guests: two sandboxes on one host, A of the smoke
// topology and B of the same lab on other subnets. From A's switch node (the one node whose
// traffic labrack does not filter, so it may take any address), B's guests answer neither
// ping, ARP nor TCP, even with an address in B's subnet; neither do the host's addresses,
// routed straight onto A's link; while B's own switch reaches B's listener (the probes
// work). A server node that changes its IP or its MAC can no longer reach its neighbour,
// and can again once it takes its own back; the switch node, under any IP and MAC, still
// can: it may bridge and route.
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fstream>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster.h"
#include "tests/testing/status_matchers.h"

namespace labrack::e2e {
namespace {

using ::testing::HasSubstr;

// The smoke lab, renamed and moved to other subnets.
void WriteOtherLab(const std::string& smoke, const std::string& path) {
  std::ifstream in(smoke);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  text = absl::StrReplaceAll(text, {{"name: smoke\n", "name: smoke-b\n"}, {"10.10.", "10.30."}});
  std::ofstream(path) << text;
}

// The node's address on the subnet starting with `prefix` ("10.10.1."), without its length.
std::string AddressOn(const v1::Sandbox& s, const std::string& node, const std::string& prefix) {
  for (const v1::NodeStatus& n : s.nodes()) {
    if (n.name() != node) continue;
    for (const std::string& a : n.addresses()) {
      if (absl::StartsWith(a, prefix)) return a.substr(0, a.find('/'));
    }
  }
  return "";
}

// The host's own IPv4 addresses but loopback.
std::vector<std::string> HostAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    if (!absl::StartsWith(text, "127.")) out.push_back(text);
  }
  freeifaddrs(list);
  return out;
}

// Shell snippet: the guest's interface holding an address that starts with `prefix`.
std::string DevOf(const std::string& prefix) {
  return absl::StrCat("$(ip addr show | awk '/^[0-9]+:/{d=$2; sub(\":\",\"\",d)} /inet ",
                      absl::StrReplaceAll(prefix, {{".", "\\."}}), "/{print d; exit}')");
}

class IsolationE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ClusterOptions options;
    options.workers = 1;
    cluster_ = new Cluster(options);
    cluster_->Start();
    if (::testing::Test::HasFatalFailure()) return;
    const std::string other = cluster_->dir() + "/smoke-b.yaml";
    WriteOtherLab(std::string(getenv("LABRACK_SOURCE_DIR")) + "/topologies/smoke.yaml", other);
    CommandResult applied = cluster_->Ctl({"topology", "apply", other});
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    a_ = CreateWait("smoke", "cand-a");
    b_ = CreateWait("smoke-b", "cand-b");
  }
  static void TearDownTestSuite() {
    cluster_->Stop();
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (a_.sandbox_id().empty() || b_.sandbox_id().empty()) GTEST_SKIP() << "no sandboxes";
  }

  static v1::Sandbox CreateWait(const std::string& topology, const std::string& candidate) {
    CommandResult r = cluster_->Ctl({"-o", "json", "sandbox", "create", "--topology", topology,
                                     "--candidate", candidate, "--wait"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    v1::Sandbox s;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &s, options).ok()) << r.out;
    EXPECT_EQ(s.phase(), v1::SANDBOX_PHASE_READY) << s.message();
    return s;
  }

  // A shell on `node` of sandbox `s`, kept for the suite.
  static testing::GuestShell& Shell(const v1::Sandbox& s, const std::string& node) {
    const std::string key = s.sandbox_id() + "/" + node;
    auto& shell = shells_[key];
    if (!shell) {
      auto opened = cluster_->Shell(0, s.sandbox_id(), node);
      EXPECT_OK(opened);
      if (opened.ok()) shell = *std::move(opened);
    }
    return *shell;
  }

  // Runs `command` in the guest; its output with the "exit=N" line.
  static std::string Sh(testing::GuestShell& shell, const std::string& command) {
    absl::StatusOr<std::string> out = shell.Run(command, absl::Seconds(60));
    EXPECT_OK(out) << command;
    return out.ok() ? *out : "";
  }

  // The name of `shell`'s interface holding an address starting with `prefix`; "" if none.
  static std::string DevIn(testing::GuestShell& shell, const std::string& prefix) {
    std::string out = Sh(shell, absl::StrCat("echo dev=", DevOf(prefix)));
    const size_t at = out.find("dev=");
    if (at == std::string::npos) return "";
    out = out.substr(at + 4);
    return out.substr(0, out.find('\n'));
  }

  // Echo replies `from` gets from `to` out of 3.
  static int Pings(testing::GuestShell& from, const std::string& to) {
    std::string out = Sh(from, absl::StrCat("ping -c 3 -W 1 ", to, " 2>&1 | tail -n 2"));
    std::smatch m;
    if (std::regex_search(out, m, std::regex(R"((\d+) packets received)"))) return std::stoi(m[1]);
    ADD_FAILURE() << "no ping summary: " << out;
    return -1;
  }

  // ARP replies to 3 requests from `dev` for `to`, asked as `source` when given.
  static int ArpReplies(testing::GuestShell& from, const std::string& dev, const std::string& to,
                        const std::string& source = "") {
    std::string out = Sh(from, absl::StrCat("arping -c 3 -w 4 -I ", dev,
                                            source.empty() ? "" : " -s " + source, " ", to, " 2>&1"));
    std::smatch m;
    if (std::regex_search(out, m, std::regex(R"(Received (\d+) respon)"))) return std::stoi(m[1]);
    ADD_FAILURE() << "no arping summary: " << out;
    return -1;
  }

  // What a TCP connection to `to`:`port` read (the listener says "labrack-open").
  static std::string TcpRead(testing::GuestShell& from, const std::string& to, int port) {
    return Sh(from, absl::StrCat("nc -w 3 ", to, " ", port, " </dev/null 2>&1"));
  }

  static Cluster* cluster_;
  static v1::Sandbox a_;
  static v1::Sandbox b_;
  static std::map<std::string, std::unique_ptr<testing::GuestShell>> shells_;
};

Cluster* IsolationE2e::cluster_ = nullptr;
v1::Sandbox IsolationE2e::a_;
v1::Sandbox IsolationE2e::b_;
std::map<std::string, std::unique_ptr<testing::GuestShell>> IsolationE2e::shells_;

TEST_F(IsolationE2e, AnotherSandboxAnswersNothingEvenInItsOwnSubnet) {
  const std::string b_server = AddressOn(b_, "server", "10.30.1.");
  ASSERT_FALSE(b_server.empty());
  testing::GuestShell& b_srv = Shell(b_, "server");
  Sh(b_srv, "(nc -ll -p 7000 -e echo labrack-open >/dev/null 2>&1 &)");
  // The probes work: B's own switch gets answers from B's server.
  testing::GuestShell& b_sw = Shell(b_, "switch");
  const std::string b_dev = DevOf("10.30.1.");
  EXPECT_EQ(Pings(b_sw, b_server), 3);
  EXPECT_GT(ArpReplies(b_sw, b_dev, b_server), 0);
  EXPECT_THAT(TcpRead(b_sw, b_server, 7000), HasSubstr("labrack-open"));

  // A's switch takes an address in B's lan (its traffic is not filtered) and tries.
  testing::GuestShell& a_sw = Shell(a_, "switch");
  const std::string dev = DevIn(a_sw, "10.10.1.");
  ASSERT_THAT(dev, ::testing::ContainsRegex("^eth[0-9]"));
  ASSERT_THAT(Sh(a_sw, absl::StrCat("ip addr add 10.30.1.250/24 dev ", dev)), HasSubstr("exit=0"));
  EXPECT_EQ(Pings(a_sw, b_server), 0) << "A reached B by ping";
  EXPECT_EQ(ArpReplies(a_sw, dev, b_server), 0) << "B answered A's ARP";
  EXPECT_THAT(TcpRead(a_sw, b_server, 7000), ::testing::Not(HasSubstr("labrack-open")))
      << "A opened a TCP connection to B";
  Sh(a_sw, absl::StrCat("ip addr del 10.30.1.250/24 dev ", dev));
}

TEST_F(IsolationE2e, TheHostsAddressesAnswerNothingFromInsideALab) {
  const std::vector<std::string> host = HostAddresses();
  ASSERT_FALSE(host.empty()) << "the host has no IPv4 address to attack";
  testing::GuestShell& a_sw = Shell(a_, "switch");
  const std::string dev = DevIn(a_sw, "10.10.1.");
  for (const std::string& target : host) {
    SCOPED_TRACE(target);
    // Routed straight onto the lab's link, as if the host sat on it.
    Sh(a_sw, absl::StrCat("ip route add ", target, "/32 dev ", dev));
    EXPECT_EQ(Pings(a_sw, target), 0);
    EXPECT_EQ(ArpReplies(a_sw, dev, target), 0);
    // The controller's port, and ssh's.
    const std::string port = cluster_->address().substr(cluster_->address().rfind(':') + 1);
    EXPECT_THAT(Sh(a_sw, absl::StrCat("nc -w 3 ", target, " ", port, " </dev/null >/dev/null 2>&1; echo rc=$?")),
                HasSubstr("rc=1"));
    EXPECT_THAT(Sh(a_sw, absl::StrCat("nc -w 3 ", target, " 22 </dev/null >/dev/null 2>&1; echo rc=$?")),
                HasSubstr("rc=1"));
    Sh(a_sw, absl::StrCat("ip route del ", target, "/32 dev ", dev));
  }
}

TEST_F(IsolationE2e, ANodeThatSpoofsItsIpOrMacIsCutOffButTheSwitchStillBridges) {
  const std::string storage = AddressOn(a_, "storage", "10.10.1.");
  const std::string own = AddressOn(a_, "server", "10.10.1.");
  ASSERT_FALSE(storage.empty());
  ASSERT_FALSE(own.empty());
  testing::GuestShell& srv = Shell(a_, "server");
  const std::string dev = DevIn(srv, "10.10.1.");
  ASSERT_THAT(dev, ::testing::StartsWith("eth"));
  EXPECT_EQ(Pings(srv, storage), 3) << "the server must reach its neighbour first";

  // Another IP on the same link: its frames are dropped.
  Sh(srv, absl::StrCat("ip addr del ", own, "/24 dev ", dev, "; ip addr add 10.10.1.201/24 dev ", dev,
                       "; ip neigh flush dev ", dev));
  EXPECT_EQ(Pings(srv, storage), 0) << "a server with a spoofed IP still sends";
  Sh(srv, absl::StrCat("ip addr del 10.10.1.201/24 dev ", dev, "; ip addr add ", own, "/24 dev ", dev,
                       "; ip neigh flush dev ", dev));
  EXPECT_EQ(Pings(srv, storage), 3) << "its own address back, it is heard again";

  // Another MAC: dropped too.
  std::string mac = Sh(srv, absl::StrCat("cat /sys/class/net/", dev, "/address"));
  mac = mac.substr(0, mac.find('\n'));
  Sh(srv, absl::StrCat("ip link set ", dev, " down; ip link set ", dev,
                       " address 52:54:00:de:ad:01; ip link set ", dev, " up; ip neigh flush dev ", dev));
  EXPECT_EQ(Pings(srv, storage), 0) << "a server with a spoofed MAC still sends";
  Sh(srv, absl::StrCat("ip link set ", dev, " down; ip link set ", dev, " address ", mac,
                       "; ip link set ", dev, " up; ip neigh flush dev ", dev));
  // The link may take a moment to come back up.
  int back = 0;
  for (int i = 0; i < 3 && back == 0; ++i) back = Pings(srv, storage);
  EXPECT_GT(back, 0) << "its own MAC back, it is heard again";

  // The switch, with a foreign MAC and an address of its choosing, is still heard: frames
  // that are not its own pass its ports, as bridging needs. ARP from that very port and
  // address, so that its other port on the lan cannot answer for it.
  testing::GuestShell& sw = Shell(a_, "switch");
  const std::string sw_dev = DevIn(sw, "10.10.1.");
  Sh(sw, absl::StrCat("ip link set ", sw_dev, " down; ip link set ", sw_dev,
                      " address 52:54:00:be:ef:02; ip link set ", sw_dev,
                      " up; ip addr add 10.10.1.202/24 dev ", sw_dev));
  int bridged = 0;
  for (int i = 0; i < 3 && bridged == 0; ++i) {
    bridged = ArpReplies(sw, sw_dev, storage, "10.10.1.202");
  }
  EXPECT_GT(bridged, 0) << "the switch node's foreign frames were dropped";
}

}  // namespace
}  // namespace labrack::e2e
