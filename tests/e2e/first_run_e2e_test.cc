// What a new user gets: labrack-controller --all-in-one started without --domain-type on
// this machine (whatever its CPU, and whether or not KVM really runs guests here) gives a
// READY sandbox and says how its guests run and why; a second all-in-one with the same
// host id is refused naming --host-id; and a stopped all-in-one leaves nothing that stops
// one with another state folder from starting. Real processes, real qemu:///system.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/subprocess.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"
#include "worker/hypervisor/libvirt_hypervisor.h"

namespace labrack::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v == nullptr ? "" : v;
}

std::string Bin(const std::string& name) {
  return absl::StrCat(Env("LABRACK_BINARY_DIR"), "/bin/", name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// One all-in-one controller process with its own state folder.
struct AllInOne {
  std::string state;
  std::unique_ptr<Daemon> daemon;
  int port = 0;
  std::string token;

  CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {Bin("labrackctl"), "--server", absl::StrCat("127.0.0.1:", port),
                               "--token", token});
    return RunCommand(args, "", absl::Minutes(4));
  }
  std::string Log() { return ReadFile(state + ".log"); }
};

class FirstRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("labrack-first-run");
    chmod(dir_.c_str(), 0755);  // qemu reads the worker's volumes below it
    auto hv = worker::LibvirtHypervisor::Connect("qemu:///system");
    ASSERT_OK(hv) << "is libvirtd running? tests/run.sh starts it";
    hv_ = *std::move(hv);
  }
  // Also when the test failed: every object of its host ids goes, then the pools.
  void TearDown() override {
    for (AllInOne* c : started_) {
      if (c->daemon) c->daemon->Stop(SIGTERM);
    }
    for (const std::string& id : host_ids_) {
      if (auto doms = hv_->ListDomains(id); doms.ok()) {
        for (const auto& d : *doms) hv_->DestroyDomain(d.name).IgnoreError();
      }
      if (auto nets = hv_->ListNetworks(id); nets.ok()) {
        for (const auto& n : *nets) hv_->DestroyNetwork(n.name).IgnoreError();
      }
      EXPECT_OK(hv_->RemovePool(absl::StrCat("labrack-", id)));
    }
    fs::remove_all(dir_);
  }

  std::string HostId(const std::string& suffix) {
    std::string id = absl::StrCat("first-", getpid(), "-", suffix);
    host_ids_.push_back(id);
    return id;
  }

  // Starts an all-in-one controller (no --domain-type) and, unless it exits first, waits
  // for its port and its admin token.
  void Start(AllInOne& c, const std::string& name, const std::string& host_id) {
    c.state = absl::StrCat(dir_, "/", name);
    const std::string port_file = c.state + ".port";
    auto daemon = Daemon::Start({Bin("labrack-controller"), "--all-in-one", "--listen",
                                 "127.0.0.1:0", "--port-file", port_file, "--state-dir", c.state,
                                 "--host-id", host_id, "--heartbeat-interval", "1"},
                                c.state + ".log");
    ASSERT_OK(daemon);
    c.daemon = *std::move(daemon);
    started_.push_back(&c);
    const absl::Time deadline = absl::Now() + absl::Seconds(90);
    while (!fs::exists(port_file) && c.daemon->running() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    std::ifstream(port_file) >> c.port;
    std::ifstream(c.state + "/admin.token") >> c.token;
  }

  // Waits until host `host_id` reports HEALTHY through labrackctl.
  bool Healthy(AllInOne& c, const std::string& host_id) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline && c.daemon->running()) {
      CommandResult hosts = c.Ctl({"host", "list"});
      if (hosts.exit_code == 0 && absl::StrContains(hosts.out, host_id) &&
          absl::StrContains(hosts.out, "HEALTHY")) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    return false;
  }

  std::string dir_;
  std::unique_ptr<worker::LibvirtHypervisor> hv_;
  std::vector<std::string> host_ids_;
  std::vector<AllInOne*> started_;
};

TEST_F(FirstRun, WithoutFlagsASandboxBecomesReadyAndTheHostSaysHowItsGuestsRun) {
  const std::string host = HostId("a");
  AllInOne c;
  ASSERT_NO_FATAL_FAILURE(Start(c, "state", host));
  ASSERT_TRUE(Healthy(c, host)) << c.Log();
  const std::string src = Env("LABRACK_SOURCE_DIR");
  CommandResult image = c.Ctl({"image", "import", src + "/images/out/tiny/manifest.yaml"});
  ASSERT_EQ(image.exit_code, 0) << image.err;
  CommandResult topo = c.Ctl({"topology", "apply", src + "/topologies/smoke.yaml"});
  ASSERT_EQ(topo.exit_code, 0) << topo.err;
  CommandResult created = c.Ctl({"-o", "json", "sandbox", "create", "--topology", "smoke",
                                 "--candidate", "first", "--wait"});
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err << "\n" << c.Log();
  EXPECT_THAT(created.out, HasSubstr("SANDBOX_PHASE_READY"));
  // The first build probed KVM with the tiny image's own kernel: the host says what it
  // chose and why (on a nested host where KVM guests hang or abort: software emulation).
  CommandResult hosts = c.Ctl({"host", "list"});
  ASSERT_EQ(hosts.exit_code, 0) << hosts.err;
  EXPECT_THAT(hosts.out, HasSubstr(absl::StrCat(host, ": ")));
  EXPECT_THAT(hosts.out, HasSubstr("image tiny's kernel under KVM"));
  EXPECT_THAT(hosts.out, Not(HasSubstr("not probed yet")));
  std::string id;
  for (absl::string_view line : absl::StrSplit(created.out, '\n')) {
    if (absl::StrContains(line, "\"sandboxId\"")) {
      std::vector<std::string> parts = absl::StrSplit(line, '"');
      if (parts.size() >= 4) id = parts[3];
      break;
    }
  }
  ASSERT_FALSE(id.empty()) << created.out;
  CommandResult destroyed = c.Ctl({"sandbox", "destroy", id, "--wait"});
  EXPECT_EQ(destroyed.exit_code, 0) << destroyed.err;
  auto doms = hv_->ListDomains(host);
  ASSERT_OK(doms);
  EXPECT_TRUE(doms->empty());
}

TEST_F(FirstRun, ASecondAllInOneOfTheSameHostIdIsRefusedAndAStoppedOnesPoolIsTakenOver) {
  const std::string host = HostId("b");
  AllInOne first, second, third;
  ASSERT_NO_FATAL_FAILURE(Start(first, "first", host));
  ASSERT_TRUE(Healthy(first, host)) << first.Log();
  // Same machine, same libvirt, same host id, another state folder: refused at start.
  ASSERT_NO_FATAL_FAILURE(Start(second, "second", host));
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (second.daemon->running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_FALSE(second.daemon->running()) << second.Log();
  EXPECT_THAT(second.daemon->how_it_ended(), Not(HasSubstr("exit 0")));
  EXPECT_THAT(second.Log(), HasSubstr("--host-id"));
  EXPECT_THAT(second.Log(), HasSubstr(absl::StrCat("state folder ", first.state)));
  EXPECT_TRUE(Healthy(first, host)) << "the first one must not be disturbed";
  // A plain stop leaves its pool in libvirt; the next start, from any state folder, goes.
  first.daemon->Stop(SIGTERM);
  ASSERT_NO_FATAL_FAILURE(Start(third, "third", host));
  EXPECT_TRUE(Healthy(third, host)) << third.Log();
}

}  // namespace
}  // namespace labrack::e2e
