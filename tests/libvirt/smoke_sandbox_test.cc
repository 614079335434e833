// The smoke topology on real qemu:///system guests, driven through a real LabWorker gRPC
// server on loopback: sandboxes come up, their guests talk to each other and to nobody
// else, reset discards changes, a frozen sandbox gives its disks and logs as evidence, and
// destroy leaves nothing. Two sandboxes are shared by the tests of this suite, since every
// guest boot costs CPU-seconds under emulation.
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/names.h"
#include "common/topology/manifest_yaml.h"
#include "common/topology/topology_yaml.h"
#include "common/uuid.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/libvirt/libvirt_env.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/guest_shell.h"
#include "tests/testing/status_matchers.h"
#include "worker/client/image_upload.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::GuestShell;
using ::labrack::testing::IsOkAndHolds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SmokeSandbox : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new LibvirtEnv();
    env_->Start();
    if (::testing::Test::HasFatalFailure()) return;
    absl::StatusOr<v1::Topology> smoke =
        LoadTopologyFile(absl::StrCat(getenv("LABRACK_SOURCE_DIR"), "/topologies/smoke.yaml"));
    ASSERT_OK(smoke);
    topology_ = new v1::Topology(*smoke);
    // Sandbox B uses the same subnets with other host addresses, so that only isolation,
    // not routing, can keep it from reaching A.
    v1::Topology b = *smoke;
    int host = 101;
    for (v1::Node& node : *b.mutable_nodes()) {
      for (v1::Nic& nic : *node.mutable_nics()) {
        std::string cidr = nic.network() == "mgmt" ? "10.10.0." : "10.10.1.";
        nic.set_address(absl::StrCat(cidr, host++, "/24"));
      }
    }
    a_ = new std::string(NewUuid4());
    b_ = new std::string(NewUuid4());
    // Both boot at once: one wait for all six guests.
    absl::StatusOr<v1::SandboxStatus> sa, sb;
    std::thread ta([&] { sa = env_->Create(*a_, *smoke, /*wait_ready=*/true); });
    sb = env_->Create(*b_, b, true);
    ta.join();
    ASSERT_OK(sa);
    ASSERT_OK(sb);
    ASSERT_EQ(sa->phase(), v1::SANDBOX_PHASE_READY) << sa->DebugString();
    ASSERT_EQ(sb->phase(), v1::SANDBOX_PHASE_READY) << sb->DebugString();
  }

  static void TearDownTestSuite() {
    env_->Stop();  // destroys every sandbox and checks that nothing is left
    delete env_;
    delete topology_;
    delete a_;
    delete b_;
  }

  void SetUp() override {
    if (env_->worker() == nullptr) GTEST_SKIP() << "suite set-up failed";
  }

  std::unique_ptr<GuestShell> Shell(const std::string& sandbox, const std::string& node) {
    auto shell = env_->Shell(sandbox, node);
    EXPECT_OK(shell);
    return shell.ok() ? *std::move(shell) : nullptr;
  }

  // Pings once with a short wait; "exit=0" when an answer came back.
  std::string Ping(GuestShell& from, const std::string& address) {
    auto out = from.Run(absl::StrCat("ping -c 2 -W 2 ", address, " >/dev/null 2>&1"));
    return out.ok() ? *out : std::string(out.status().message());
  }

  static LibvirtEnv* env_;
  static v1::Topology* topology_;
  static std::string* a_;
  static std::string* b_;
};

LibvirtEnv* SmokeSandbox::env_ = nullptr;
v1::Topology* SmokeSandbox::topology_ = nullptr;
std::string* SmokeSandbox::a_ = nullptr;
std::string* SmokeSandbox::b_ = nullptr;

TEST_F(SmokeSandbox, ComesUpWithThreeRunningDomainsThatPrintedTheirMarker) {
  auto st = env_->Get(*a_);
  ASSERT_OK(st);
  ASSERT_EQ(st->nodes_size(), 3);
  for (const v1::NodeStatus& node : st->nodes()) {
    EXPECT_EQ(node.phase(), v1::NODE_PHASE_READY) << node.name();
    auto info = env_->hypervisor().GetDomain(node.domain());
    ASSERT_OK(info);
    EXPECT_EQ(info->state, DomainState::kRunning);
    EXPECT_THAT(env_->SerialLog(*a_, node.name()),
                HasSubstr(absl::StrCat("LABRACK-READY node=", node.name())));
  }
}

TEST_F(SmokeSandbox, ServerPingsTheSwitchOverEachSharedNetwork) {
  auto st = env_->Get(*a_);
  ASSERT_OK(st);
  auto server = Shell(*a_, "server");
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(Ping(*server, NodeAddress(*st, "switch", 0)), HasSubstr("exit=0"));  // mgmt
  EXPECT_THAT(Ping(*server, NodeAddress(*st, "switch", 1)), HasSubstr("exit=0"));  // lan
}

TEST_F(SmokeSandbox, SecondSandboxCannotReachTheFirstNorTheFirstTheSecond) {
  auto sa = env_->Get(*a_);
  auto sb = env_->Get(*b_);
  ASSERT_OK(sa);
  ASSERT_OK(sb);
  auto server_a = Shell(*a_, "server");
  auto server_b = Shell(*b_, "server");
  ASSERT_NE(server_a, nullptr);
  ASSERT_NE(server_b, nullptr);
  // Each reaches its own switch (so the probe itself works) ...
  EXPECT_THAT(Ping(*server_b, NodeAddress(*sb, "switch", 1)), HasSubstr("exit=0"));
  // ... and neither reaches the other sandbox on the very same subnet.
  EXPECT_THAT(Ping(*server_b, NodeAddress(*sa, "switch", 1)), HasSubstr("exit=1"));
  EXPECT_THAT(Ping(*server_b, NodeAddress(*sa, "server", 0)), HasSubstr("exit=1"));
  EXPECT_THAT(Ping(*server_a, NodeAddress(*sb, "switch", 1)), HasSubstr("exit=1"));
  EXPECT_THAT(Ping(*server_a, NodeAddress(*sb, "storage", 0)), HasSubstr("exit=1"));
}

TEST_F(SmokeSandbox, StorageNodeSeesFourBlankOneGibDisks) {
  auto storage = Shell(*a_, "storage");
  ASSERT_NE(storage, nullptr);
  auto out = storage->Run("for d in vdb vdc vdd vde; do cat /sys/block/$d/size; done");
  ASSERT_OK(out);
  EXPECT_EQ(*out, "2097152\n2097152\n2097152\n2097152\nexit=0");
  // Blank: the first MiB of each holds no byte but zero.
  out = storage->Run("for d in vdb vdc vdd vde; do dd if=/dev/$d bs=1M count=1 2>/dev/null | "
                     "tr -d '\\000' | wc -c; done");
  ASSERT_OK(out);
  EXPECT_EQ(*out, "0\n0\n0\n0\nexit=0");
}

TEST_F(SmokeSandbox, ResetDiscardsWhatTheCandidateWroteAndRaisesTheGeneration) {
  auto before = env_->Get(*b_);
  ASSERT_OK(before);
  {
    auto server = Shell(*b_, "server");
    ASSERT_NE(server, nullptr);
    ASSERT_THAT(server->Run("echo exam-work > /root/answer.txt && sync && cat /root/answer.txt"),
                IsOkAndHolds(std::string("exam-work\nexit=0")));
    auto storage = Shell(*b_, "storage");
    ASSERT_NE(storage, nullptr);
    ASSERT_THAT(storage->Run("echo raid | dd of=/dev/vdb conv=fsync 2>/dev/null"),
                IsOkAndHolds(std::string("exit=0")));
  }
  auto st = env_->Reset(*b_, before->generation() + 1);
  ASSERT_OK(st);
  EXPECT_EQ(st->generation(), before->generation() + 1);
  ASSERT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->DebugString();
  auto server = Shell(*b_, "server");
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(server->Run("test -e /root/answer.txt"), IsOkAndHolds(std::string("exit=1")));
  auto storage = Shell(*b_, "storage");
  ASSERT_NE(storage, nullptr);
  EXPECT_THAT(storage->Run("dd if=/dev/vdb bs=4 count=1 2>/dev/null | od -An -c | tr -d ' \\n'"),
              IsOkAndHolds(std::string("\\0\\0\\0\\0exit=0")));
}

TEST_F(SmokeSandbox, RestartedWorkerRebuildsItsSandboxesFromLibvirtAlone) {
  auto before = env_->Get(*b_);
  ASSERT_OK(before);
  env_->RestartWorker();
  ASSERT_NE(env_->worker(), nullptr);
  auto list = env_->List();
  ASSERT_OK(list);
  std::set<std::string> ids;
  for (const v1::SandboxStatus& s : list->sandboxes()) ids.insert(s.sandbox_id());
  EXPECT_EQ(ids, (std::set<std::string>{*a_, *b_}));
  auto after = env_->Get(*b_);
  ASSERT_OK(after);
  EXPECT_EQ(after->generation(), before->generation());
  EXPECT_EQ(after->phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(after->nodes_size(), 3);
}

// libvirtd killed while it starts or stops a network leaves the bridge without the network;
// nothing in libvirt leads to it then, only its name. A destroy of that sandbox finds it,
// and leaves the live sandboxes' bridges and interfaces of other kinds alone.
TEST_F(SmokeSandbox, ABridgeLeftWithoutItsNetworkGoesWithTheDestroyOfItsSandbox) {
  const std::string gone = NewUuid4();
  const std::string bridge = BridgeName(gone, 0), not_a_bridge = BridgeName(gone, 1);
  absl::Cleanup cleanup = [&] {
    std::system(absl::StrCat("ip link del ", bridge, " 2>/dev/null").c_str());
    std::system(absl::StrCat("ip link del ", not_a_bridge, " 2>/dev/null").c_str());
  };
  // A veth end with a bridge's name (this kernel has no dummy interfaces).
  ASSERT_EQ(std::system(absl::StrCat("ip link add ", bridge, " type bridge && ip link add ",
                                     not_a_bridge, " type veth peer name lrtpeer", getpid() % 100000)
                            .c_str()),
            0);
  absl::StatusOr<std::vector<std::string>> unbacked = env_->hypervisor().ListUnbackedBridges();
  ASSERT_OK(unbacked);
  EXPECT_THAT(*unbacked, ::testing::Contains(bridge));
  EXPECT_THAT(*unbacked, ::testing::Not(::testing::Contains(not_a_bridge))) << "a veth";
  for (const std::string& live : {BridgeName(*a_, 0), BridgeName(*a_, 1), BridgeName(*b_, 0)}) {
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/" + live)) << live;
    EXPECT_THAT(*unbacked, ::testing::Not(::testing::Contains(live))) << "a network uses it";
  }
  EXPECT_THAT(env_->Destroy(gone), IsOkAndHolds(true));
  EXPECT_FALSE(std::filesystem::exists("/sys/class/net/" + bridge));
  EXPECT_TRUE(std::filesystem::exists("/sys/class/net/" + not_a_bridge));
  EXPECT_THAT(env_->Get(*a_), IsOkAndHolds(::testing::Property(&v1::SandboxStatus::phase,
                                                                v1::SANDBOX_PHASE_READY)));
}

// Helpers for the frozen sandbox's test: LabWorker calls with a deadline, and commands.
namespace evidence {

// The smoke topology's storage node alone, with its four blank disks.
v1::Topology StorageOnly(const v1::Topology& smoke) {
  v1::Topology t = smoke;
  t.clear_nodes();
  t.clear_networks();
  for (const v1::Node& n : smoke.nodes()) {
    if (n.name() == "storage") *t.add_nodes() = n;
  }
  for (const v1::Network& n : smoke.networks()) {
    if (n.name() == "lan") *t.add_networks() = n;
  }
  return t;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(1)));
  return ctx;
}

absl::StatusOr<v1::SandboxStatus> Freeze(v1::LabWorker::Stub& stub, const std::string& id) {
  v1::WorkerFreezeSandboxRequest req;
  req.set_sandbox_id(id);
  v1::SandboxStatus resp;
  grpc::Status s = stub.FreezeSandbox(Context().get(), req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<v1::WorkerListEvidenceResponse> List(v1::LabWorker::Stub& stub,
                                                    const std::string& id) {
  v1::WorkerListEvidenceRequest req;
  req.set_sandbox_id(id);
  v1::WorkerListEvidenceResponse resp;
  grpc::Status s = stub.ListEvidence(Context().get(), req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

// The whole file, in the pieces the worker allows.
absl::StatusOr<std::string> Read(v1::LabWorker::Stub& stub, const std::string& id,
                                 const std::string& name) {
  std::string all;
  for (;;) {
    v1::WorkerReadEvidenceRequest req;
    req.set_sandbox_id(id);
    req.set_name(name);
    req.set_offset(all.size());
    v1::WorkerReadEvidenceResponse resp;
    grpc::Status s = stub.ReadEvidence(Context().get(), req, &resp);
    if (!s.ok()) return FromGrpc(s);
    if (resp.data().empty()) return all;
    all += resp.data();
  }
}

// What a host command printed (stdout and stderr), then "exit=N".
std::string Run(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return "popen failed";
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  return absl::StrCat(out, "exit=", WEXITSTATUS(pclose(p)));
}

}  // namespace evidence

// Freezing ends a sandbox's session, and the shared ones must stay up: this one is its own,
// of one node (one more boot), destroyed also when the test fails.
TEST_F(SmokeSandbox, FrozenSandboxGivesItsDisksAndSerialLogAsEvidence) {
  const std::string id = NewUuid4();
  const std::string tmp = labrack::testing::MakeTempDir("labrack-evidence");
  absl::Cleanup cleanup = [&] {
    env_->Destroy(id).IgnoreError();
    std::filesystem::remove_all(tmp);
  };
  auto st = env_->Create(id, evidence::StorageOnly(*topology_), /*wait_ready=*/true);
  ASSERT_OK(st);
  ASSERT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->DebugString();
  const std::string marker = absl::StrCat("lr-evidence-", id.substr(0, 8));
  {
    auto storage = Shell(id, "storage");
    ASSERT_NE(storage, nullptr);
    ASSERT_THAT(storage->Run(absl::StrCat("echo ", marker, " > /root/answer.txt && echo ", marker,
                                          " | dd of=/dev/vdb conv=fsync 2>/dev/null")),
                IsOkAndHolds(std::string("exit=0")));
  }

  auto frozen = evidence::Freeze(env_->stub(), id);
  ASSERT_OK(frozen);
  EXPECT_EQ(frozen->phase(), v1::SANDBOX_PHASE_FROZEN) << frozen->DebugString();
  auto info = env_->hypervisor().GetDomain(DomainName(id, "storage"));
  ASSERT_OK(info);
  EXPECT_EQ(info->state, DomainState::kPaused);
  EXPECT_THAT(evidence::Run("virsh -c qemu:///system domstate " + DomainName(id, "storage")),
              HasSubstr("paused"));

  auto list = evidence::List(env_->stub(), id);
  ASSERT_OK(list);
  std::vector<std::string> names;
  for (const v1::EvidenceFile& f : list->files()) names.push_back(f.name());
  ASSERT_THAT(names, ElementsAre("disks/storage.qcow2", "disks/storage-data0.qcow2",
                                 "disks/storage-data1.qcow2", "disks/storage-data2.qcow2",
                                 "disks/storage-data3.qcow2", "serial/storage.log"));
  const v1::EvidenceFile& root = list->files(0);
  EXPECT_EQ(root.base_image(), "tiny");

  // The root overlay, read whole, is a qcow2 over the cached image.
  auto overlay = evidence::Read(env_->stub(), id, root.name());
  ASSERT_OK(overlay);
  EXPECT_EQ(overlay->size(), root.size_bytes());
  const std::string copy = tmp + "/storage.qcow2";
  std::ofstream(copy, std::ios::binary) << *overlay;
  std::string qemu_info = evidence::Run("qemu-img info --output=json -f qcow2 " + copy);
  EXPECT_THAT(qemu_info, HasSubstr("exit=0"));
  EXPECT_THAT(qemu_info, HasSubstr("\"format\": \"qcow2\""));
  EXPECT_THAT(qemu_info, HasSubstr(absl::StrCat("\"backing-filename\": \"",
                                                env_->worker()->images().BlobPath(
                                                    root.base_image_sha256()),
                                                "\"")));
  // What the guest wrote to its first blank disk is in that disk's evidence.
  auto data0 = evidence::Read(env_->stub(), id, "disks/storage-data0.qcow2");
  ASSERT_OK(data0);
  EXPECT_NE(data0->find(marker), std::string::npos);
  auto serial = evidence::Read(env_->stub(), id, "serial/storage.log");
  ASSERT_OK(serial);
  auto image = env_->worker()->images().Lookup("tiny");
  ASSERT_OK(image);
  EXPECT_THAT(*serial, HasSubstr(image->manifest.readiness().serial_marker()));

  EXPECT_THAT(env_->Destroy(id), IsOkAndHolds(true));
  EXPECT_THAT(env_->hypervisor().GetDomain(DomainName(id, "storage")),
              ::labrack::testing::StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace labrack::worker
