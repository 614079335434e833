// GrpcWorkerClient against a real WorkerServer on loopback over a FakeHypervisor: images,
// the sandbox lifecycle, unreachable workers, and consoles relayed both ways (the fake's
// consoles echo what they are sent).
#include "controller/workers/grpc_worker_client.h"

#include <google/protobuf/text_format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"
#include "worker/hypervisor/fake_hypervisor.h"
#include "worker/hypervisor/forwarding_hypervisor.h"
#include "worker/sandbox/sandbox_plan.h"
#include "worker/worker_server.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kSandboxId[] = "0123abcd-0000-4000-8000-000000000001";
constexpr absl::Duration kBuildDeadline = absl::Seconds(30);

v1::SandboxSpec Spec() {
  v1::SandboxSpec spec;
  google::protobuf::TextFormat::ParseFromString(R"pb(
                                                  sandbox_id: "0123abcd-0000-4000-8000-000000000001"
                                                  generation: 1
                                                  candidate: "cand-1"
                                                  topology {
                                                    name: "mini"
                                                    networks { name: "lan" cidr: "10.10.1.0/24" }
                                                    nodes {
                                                      name: "server"
                                                      role: NODE_ROLE_SERVER
                                                      image: "tiny"
                                                      vcpus: 1
                                                      memory_mib: 128
                                                      nics { network: "lan" }
                                                    }
                                                  }
                                                )pb",
                                                &spec);
  return spec;
}

// A loopback port that refuses connections: bound, never listening.
class RefusingPort {
 public:
  RefusingPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), len);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// Reads until `want` bytes arrived, the relay ends, or `timeout` passes (then it closes the
// relay, so a broken relay fails the test instead of hanging it).
std::string ReadAtLeast(ConsoleRelay& relay, size_t want, absl::Duration timeout) {
  absl::Notification done;
  std::thread watchdog([&] {
    if (!done.WaitForNotificationWithTimeout(timeout)) relay.Close();
  });
  std::string got;
  while (got.size() < want) {
    absl::StatusOr<std::string> data = relay.Read();
    if (!data.ok() || data->empty()) break;
    got += *data;
  }
  done.Notify();
  watchdog.join();
  return got;
}

class GrpcWorkerClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = labrack::testing::MakeTempDir("grpc-worker-client");
    manifest_ = labrack::testing::WriteFakeImage(root_ + "/src", "tiny");
    worker::WorkerOptions options;
    options.state_dir = root_ + "/state";
    options.host_id = "host-a";
    options.domain_type = "qemu";
    options.ready_timeout = absl::Seconds(10);
    auto w = worker::WorkerServer::Start(options,
                                         std::make_unique<worker::FakeHypervisor>("LABRACK-READY"));
    ASSERT_OK(w);
    worker_ = *std::move(w);
    client_ = std::make_unique<GrpcWorkerClient>(absl::StrCat("127.0.0.1:", worker_->port()));
  }
  void TearDown() override {
    client_.reset();
    worker_.reset();
    std::filesystem::remove_all(root_);
  }

  ArtifactPathFn FromSource() {
    return [this](const v1::ImageArtifact& a) { return absl::StrCat(root_, "/src/", a.file()); };
  }
  // The image sent and the sandbox built and ready.
  void CreateReady() {
    ASSERT_OK(client_->EnsureImage(manifest_, FromSource()));
    absl::StatusOr<v1::SandboxStatus> st = client_->CreateSandbox(Spec(), true, kBuildDeadline);
    ASSERT_OK(st);
    ASSERT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->message();
  }

  std::string root_;
  v1::ImageManifest manifest_;
  std::unique_ptr<worker::WorkerServer> worker_;
  std::unique_ptr<GrpcWorkerClient> client_;
};

TEST_F(GrpcWorkerClientTest, EnsureImageStreamsArtifactsFromTheirPaths) {
  ASSERT_OK(client_->EnsureImage(manifest_, FromSource()));
  ASSERT_OK(client_->EnsureImage(manifest_, FromSource()));  // already there: fine
  absl::StatusOr<v1::Inventory> inv = client_->GetInventory();
  ASSERT_OK(inv);
  EXPECT_EQ(inv->host_id(), "host-a");
  EXPECT_EQ(inv->domain_type(), "qemu");
  ASSERT_EQ(inv->images_size(), 1);
  EXPECT_EQ(inv->images(0).name(), "tiny");
}

TEST_F(GrpcWorkerClientTest, EnsureImageRejectsBytesThatDoNotMatchTheManifest) {
  ArtifactPathFn wrong = [this](const v1::ImageArtifact&) { return root_ + "/src/vmlinuz"; };
  EXPECT_THAT(client_->EnsureImage(manifest_, wrong), StatusIs(absl::StatusCode::kDataLoss));
  ArtifactPathFn missing = [this](const v1::ImageArtifact&) { return root_ + "/nothing"; };
  EXPECT_THAT(client_->EnsureImage(manifest_, missing), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(GrpcWorkerClientTest, SandboxLivesThroughCreateGetResetAndDestroy) {
  CreateReady();
  absl::StatusOr<v1::SandboxStatus> got = client_->GetSandbox(kSandboxId);
  ASSERT_OK(got);
  EXPECT_EQ(got->generation(), 1u);
  absl::StatusOr<v1::SandboxStatus> reset =
      client_->ResetSandbox(kSandboxId, 2, true, kBuildDeadline, {});
  ASSERT_OK(reset);
  EXPECT_EQ(reset->generation(), 2u);
  EXPECT_EQ(reset->phase(), v1::SANDBOX_PHASE_READY) << reset->message();
  EXPECT_THAT(client_->ResetSandbox(kSandboxId, 7, false, kBuildDeadline, {}),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(client_->DestroySandbox(kSandboxId), IsOkAndHolds(true));
  EXPECT_THAT(client_->DestroySandbox(kSandboxId), IsOkAndHolds(false));
  EXPECT_THAT(client_->GetSandbox(kSandboxId), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(GrpcWorkerClientTest, FrozenSandboxListsAndReadsItsEvidence) {
  CreateReady();
  EXPECT_THAT(client_->ListEvidence(kSandboxId), StatusIs(absl::StatusCode::kFailedPrecondition));
  absl::StatusOr<v1::SandboxStatus> frozen = client_->FreezeSandbox(kSandboxId);
  ASSERT_OK(frozen);
  EXPECT_EQ(frozen->phase(), v1::SANDBOX_PHASE_FROZEN) << frozen->message();
  ASSERT_OK(client_->FreezeSandbox(kSandboxId));  // again: fine
  // FakeHypervisor makes no volume files: put the root overlay where the plan says.
  std::string root = std::string(1300 << 10, 'r') + "end";
  std::ofstream(absl::StrCat(root_, "/state/volumes/",
                             worker::RootVolumeName(kSandboxId, "server")),
                std::ios::binary)
      << root;
  absl::StatusOr<std::vector<v1::EvidenceFile>> files = client_->ListEvidence(kSandboxId);
  ASSERT_OK(files);
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].name(), "disks/server.qcow2");
  EXPECT_EQ((*files)[0].size_bytes(), root.size());
  EXPECT_EQ((*files)[0].base_image(), "tiny");
  EXPECT_EQ((*files)[1].name(), "serial/server.log");
  // Whole, in the pieces the worker allows.
  std::string got;
  for (;;) {
    absl::StatusOr<std::string> piece =
        client_->ReadEvidence(kSandboxId, "disks/server.qcow2", got.size(), 0);
    ASSERT_OK(piece);
    if (piece->empty()) break;
    EXPECT_LE(piece->size(), 1u << 20);
    got += *piece;
  }
  EXPECT_TRUE(got == root) << "got " << got.size() << " of " << root.size() << " bytes";
  EXPECT_THAT(client_->ReadEvidence(kSandboxId, "serial/server.log", 0, 0),
              IsOkAndHolds(HasSubstr("LABRACK-READY node=server")));
  EXPECT_THAT(client_->ReadEvidence(kSandboxId, "../serial/server.log", 0, 0),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->FreezeSandbox("fedcba98-0000-4000-8000-000000000009"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->DestroySandbox(kSandboxId), IsOkAndHolds(true));
}

TEST_F(GrpcWorkerClientTest, UnreachableWorkerIsUnavailableQuickly) {
  RefusingPort port;
  GrpcWorkerClient client(absl::StrCat("127.0.0.1:", port.port()));
  absl::Time start = absl::Now();
  EXPECT_THAT(client.GetInventory(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("127.0.0.1:")));
  EXPECT_THAT(client.AttachConsole(kSandboxId, "server"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(client.FreezeSandbox(kSandboxId),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("127.0.0.1:")));
  EXPECT_THAT(client.ReadEvidence(kSandboxId, "serial/server.log", 0, 0),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(GrpcWorkerClientTest, ConsoleRelaysBytesBothWays) {
  CreateReady();
  absl::StatusOr<std::unique_ptr<ConsoleRelay>> relay =
      client_->AttachConsole(kSandboxId, "server");
  ASSERT_OK(relay);
  ASSERT_OK((*relay)->Write("hello "));
  ASSERT_OK((*relay)->Write("guest\n"));
  EXPECT_EQ(ReadAtLeast(**relay, 12, absl::Seconds(10)), "hello guest\n");
  (*relay)->Close();
}

TEST_F(GrpcWorkerClientTest, AConsoleOfAnUnknownNodeIsRefusedBeforeTheRelayExists) {
  CreateReady();
  EXPECT_THAT(client_->AttachConsole(kSandboxId, "nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("has no node nope")));
}

TEST_F(GrpcWorkerClientTest, ConsoleRelaysMoreThanItBuffersInOrder) {
  CreateReady();
  absl::StatusOr<std::unique_ptr<ConsoleRelay>> relay =
      client_->AttachConsole(kSandboxId, "server");
  ASSERT_OK(relay);
  std::string sent;
  for (int i = 0; sent.size() < (300 << 10); ++i) absl::StrAppend(&sent, "line ", i, "\n");
  std::string got;
  std::thread reader([&] { got = ReadAtLeast(**relay, sent.size(), absl::Seconds(30)); });
  for (size_t at = 0; at < sent.size(); at += 4096) {
    absl::Status written = (*relay)->Write(sent.substr(at, 4096));
    EXPECT_OK(written) << "at " << at;
    if (!written.ok()) break;  // the reader's watchdog ends it
  }
  reader.join();
  EXPECT_TRUE(got == sent) << "got " << got.size() << " of " << sent.size() << " bytes";
}

TEST_F(GrpcWorkerClientTest, CloseWakesABlockedRead) {
  CreateReady();
  absl::StatusOr<std::unique_ptr<ConsoleRelay>> relay =
      client_->AttachConsole(kSandboxId, "server");
  ASSERT_OK(relay);
  absl::StatusOr<std::string> read = std::string("not read");
  absl::Time returned;
  std::thread reader([&] {
    read = (*relay)->Read();
    returned = absl::Now();
  });
  absl::SleepFor(absl::Milliseconds(200));
  absl::Time closed = absl::Now();
  (*relay)->Close();
  reader.join();
  EXPECT_THAT(read, IsOkAndHolds(""));
  EXPECT_LT(returned - closed, absl::Seconds(2));
  EXPECT_THAT((*relay)->Read(), IsOkAndHolds(""));  // and stays ended
  EXPECT_THAT((*relay)->Write("late"), StatusIs(absl::StatusCode::kFailedPrecondition));
  // The worker ended its side: the console can be opened again at once.
  absl::StatusOr<std::unique_ptr<ConsoleRelay>> again =
      client_->AttachConsole(kSandboxId, "server");
  ASSERT_OK(again);
  ASSERT_OK((*again)->Write("x"));
  EXPECT_EQ(ReadAtLeast(**again, 1, absl::Seconds(10)), "x");
}

TEST_F(GrpcWorkerClientTest, ConsoleOfAnUnknownSandboxOrNodeIsNotFound) {
  CreateReady();
  auto first_read = [&](const std::string& id, const std::string& node) -> absl::Status {
    absl::StatusOr<std::unique_ptr<ConsoleRelay>> relay = client_->AttachConsole(id, node);
    if (!relay.ok()) return relay.status();
    return (*relay)->Read().status();
  };
  EXPECT_THAT(first_read("fedcba98-0000-4000-8000-000000000009", "server"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("fedcba98")));
  EXPECT_THAT(first_read(kSandboxId, "router"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("has no node router")));
  EXPECT_THAT(first_read("not-an-id", "server"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("open.sandbox_id")));
}

TEST_F(GrpcWorkerClientTest, ConsoleMustBeOpenedByTheFirstMessage) {
  auto stub = v1::LabWorker::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", worker_->port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto stream = stub->AttachConsole(&ctx);
  v1::ConsoleInput keys;
  keys.set_data("ls\n");
  stream->Write(keys);
  v1::ConsoleOutput out;
  EXPECT_FALSE(stream->Read(&out));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("first message"));
}

TEST_F(GrpcWorkerClientTest, WorkerShutdownEndsAnOpenConsole) {
  CreateReady();
  absl::StatusOr<std::unique_ptr<ConsoleRelay>> relay =
      client_->AttachConsole(kSandboxId, "server");
  ASSERT_OK(relay);
  ASSERT_OK((*relay)->Write("x"));
  ASSERT_EQ(ReadAtLeast(**relay, 1, absl::Seconds(10)), "x");
  absl::Time start = absl::Now();
  worker_->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_THAT((*relay)->Read(), IsOkAndHolds(""));
}

// A FakeHypervisor whose GetDomain waits while the gate is shut, as libvirt's calls queue
// on a busy host.
class GatedHypervisor : public worker::ForwardingHypervisor {
 public:
  GatedHypervisor() : ForwardingHypervisor(&fake_) {}
  absl::StatusOr<worker::DomainInfo> GetDomain(const std::string& name) override {
    {
      absl::MutexLock lock(&mu_);
      ++waiting_;
      mu_.Await(absl::Condition(&open_));
      --waiting_;
    }
    return ForwardingHypervisor::GetDomain(name);
  }
  void SetOpen(bool open) {
    absl::MutexLock lock(&mu_);
    open_ = open;
  }
  // True once `n` calls wait at the gate; false after `timeout`.
  bool AwaitWaiting(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return waiting_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  worker::FakeHypervisor fake_{"LABRACK-READY"};
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

// Calls that wait for libvirt must not hold gRPC's callback threads (as many as there are
// cores, shared by every server of the process): the all-in-one controller stopped
// answering heartbeats while two GetSandbox calls waited for a busy libvirtd.
TEST_F(GrpcWorkerClientTest, CallsWaitingForLibvirtDoNotStallTheOthers) {
  auto owned = std::make_unique<GatedHypervisor>();
  GatedHypervisor* gated = owned.get();
  worker::WorkerOptions options;
  options.state_dir = root_ + "/gated";
  options.host_id = "host-b";
  options.domain_type = "qemu";
  auto w = worker::WorkerServer::Start(options, std::move(owned));
  ASSERT_OK(w);
  GrpcWorkerClient client(absl::StrCat("127.0.0.1:", (*w)->port()));
  ASSERT_OK(client.EnsureImage(manifest_, FromSource()));
  absl::StatusOr<v1::SandboxStatus> st = client.CreateSandbox(Spec(), true, kBuildDeadline);
  ASSERT_OK(st);
  ASSERT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->message();

  constexpr int kStuck = 16;  // more than gRPC's callback threads on any machine we run on
  gated->SetOpen(false);
  std::vector<std::thread> stuck;
  for (int i = 0; i < kStuck; ++i) {
    stuck.emplace_back([&] { client.GetSandbox(kSandboxId).IgnoreError(); });
  }
  // One waits at the gate, the others for the sandbox that it observes.
  ASSERT_TRUE(gated->AwaitWaiting(1, absl::Seconds(10)));
  absl::SleepFor(absl::Seconds(1));  // for the other calls to reach the worker
  absl::StatusOr<v1::SandboxStatus> other = client.GetSandbox("0123abcd-0000-4000-8000-00000000dead");
  gated->SetOpen(true);
  for (std::thread& t : stuck) t.join();
  // DeadlineExceeded when the stuck calls held every callback thread.
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(client.DestroySandbox(kSandboxId));
}

TEST(GrpcWorkerDirectory, KeepsOneClientPerAddress) {
  GrpcWorkerDirectory workers;
  std::shared_ptr<WorkerClient> a = workers.ForAddress("127.0.0.1:1");
  EXPECT_EQ(workers.ForAddress("127.0.0.1:1"), a);
  EXPECT_NE(workers.ForAddress("127.0.0.1:2"), a);
}

}  // namespace
}  // namespace labrack::controller
