// HostAgent against a fake LabController on loopback: registration, heartbeats at the
// controller's pace, registering again when forgotten, retrying while the controller is
// down, a prompt Stop(); and a WorkerServer that registers itself.
#include "worker/controller_link.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "labrack/v1/controller.grpc.pb.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"
#include "worker/hypervisor/fake_hypervisor.h"
#include "worker/worker_server.h"

namespace labrack::worker {
namespace {

// Records RegisterHost and Heartbeat calls. `forget` answers heartbeats with NOT_FOUND,
// `busy` with UNAVAILABLE; `stall` leaves registrations unanswered until Release().
class FakeController : public v1::LabController::CallbackService {
 public:
  explicit FakeController(uint32_t interval_ms) : interval_ms_(interval_ms) {}

  grpc::ServerUnaryReactor* RegisterHost(grpc::CallbackServerContext* ctx,
                                         const v1::RegisterHostRequest* req,
                                         v1::RegisterHostResponse* resp) override {
    absl::MutexLock lock(&mu_);
    registers_.push_back(*req);
    resp->set_heartbeat_interval_ms(interval_ms_);
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (stall_) {
      stalled_.push_back(reactor);
    } else {
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const v1::HeartbeatRequest* req,
                                      v1::HeartbeatResponse*) override {
    absl::MutexLock lock(&mu_);
    heartbeats_.push_back(*req);
    heartbeat_times_.push_back(absl::Now());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (forget_) {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown host"));
    } else if (busy_) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy"));
    } else {
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  void set_forget(bool forget) {
    absl::MutexLock lock(&mu_);
    forget_ = forget;
  }
  void set_busy(bool busy) {
    absl::MutexLock lock(&mu_);
    busy_ = busy;
  }
  void set_stall(bool stall) {
    absl::MutexLock lock(&mu_);
    stall_ = stall;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    for (grpc::ServerUnaryReactor* r : stalled_) r->Finish(grpc::Status::OK);
    stalled_.clear();
  }
  std::vector<v1::RegisterHostRequest> registers() {
    absl::MutexLock lock(&mu_);
    return registers_;
  }
  std::vector<v1::HeartbeatRequest> heartbeats() {
    absl::MutexLock lock(&mu_);
    return heartbeats_;
  }
  std::vector<absl::Time> heartbeat_times() {
    absl::MutexLock lock(&mu_);
    return heartbeat_times_;
  }

 private:
  const uint32_t interval_ms_;
  absl::Mutex mu_;
  bool forget_ ABSL_GUARDED_BY(mu_) = false;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool stall_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<grpc::ServerUnaryReactor*> stalled_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::RegisterHostRequest> registers_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::HeartbeatRequest> heartbeats_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> heartbeat_times_ ABSL_GUARDED_BY(mu_);
};

// Polls `pred` until it holds or `timeout` passes.
template <typename Pred>
bool Eventually(Pred pred, absl::Duration timeout = absl::Seconds(10)) {
  absl::Time end = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// A loopback port that refuses connections: bound, never listening, kept until destroyed.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), len);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { Release(); }
  // Frees the port for a server to take.
  void Release() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class ControllerLinkTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (agent_) agent_->Stop();
    StopController();
  }

  void StartController(const std::string& address = "127.0.0.1:0") {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&controller_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
  }
  void StopController() {
    controller_.Release();
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_.reset();
  }

  HostAgentOptions Options(int port) {
    HostAgentOptions o;
    o.controller = absl::StrCat("127.0.0.1:", port);
    o.host_id = "host-a";
    o.address = "127.0.0.1:4242";
    o.default_heartbeat = absl::Seconds(30);  // the controller's interval must win
    o.initial_backoff = absl::Milliseconds(20);
    o.max_backoff = absl::Milliseconds(100);
    return o;
  }
  static absl::StatusOr<v1::Inventory> Inventory() {
    v1::Inventory inv;
    inv.set_host_id("host-a");
    inv.mutable_total()->set_vcpus(4);
    return inv;
  }

  FakeController controller_{50};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<HostAgent> agent_;
};

TEST_F(ControllerLinkTest, RegistersWithItsInventoryAndAddress) {
  StartController();
  agent_ = HostAgent::Start(Options(port_), Inventory);
  ASSERT_TRUE(Eventually([&] { return !controller_.registers().empty(); }));
  v1::RegisterHostRequest req = controller_.registers()[0];
  EXPECT_EQ(req.host_id(), "host-a");
  EXPECT_EQ(req.address(), "127.0.0.1:4242");
  EXPECT_EQ(req.inventory().total().vcpus(), 4u);
}

TEST_F(ControllerLinkTest, HeartbeatsAtTheIntervalTheControllerGives) {
  StartController();
  absl::Time start = absl::Now();
  agent_ = HostAgent::Start(Options(port_), Inventory);
  ASSERT_TRUE(Eventually([&] { return controller_.heartbeats().size() >= 6; }));
  std::vector<absl::Time> times = controller_.heartbeat_times();
  absl::Duration span = times[5] - times[0];
  EXPECT_GE(span, absl::Milliseconds(5 * 50 * 0.8));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));  // 50 ms apart, not the default 30 s
  EXPECT_EQ(controller_.registers().size(), 1u);
  EXPECT_EQ(controller_.heartbeats()[0].host_id(), "host-a");
  EXPECT_EQ(controller_.heartbeats()[0].inventory().total().vcpus(), 4u);
}

TEST_F(ControllerLinkTest, RegistersAgainWhenTheControllerForgetsTheHost) {
  StartController();
  agent_ = HostAgent::Start(Options(port_), Inventory);
  ASSERT_TRUE(Eventually([&] { return controller_.heartbeats().size() >= 1; }));
  controller_.set_forget(true);
  ASSERT_TRUE(Eventually([&] { return controller_.registers().size() >= 2; }));
  controller_.set_forget(false);
  size_t registers = controller_.registers().size();
  size_t heartbeats = controller_.heartbeats().size();
  ASSERT_TRUE(Eventually([&] { return controller_.heartbeats().size() >= heartbeats + 3; }));
  EXPECT_LE(controller_.registers().size(), registers + 1);  // one in flight at most
}

// A controller that failed one heartbeat counts the silence that follows: a registered
// worker keeps its pace instead of backing off past the controller's host timeout.
TEST_F(ControllerLinkTest, FailedHeartbeatsAreRetriedAtTheHeartbeatPace) {
  StartController();
  HostAgentOptions options = Options(port_);
  options.initial_backoff = absl::Milliseconds(400);
  options.max_backoff = absl::Seconds(5);
  agent_ = HostAgent::Start(options, Inventory);
  ASSERT_TRUE(Eventually([&] { return controller_.heartbeats().size() >= 1; }));
  controller_.set_busy(true);
  size_t before = controller_.heartbeats().size();
  absl::SleepFor(absl::Seconds(1));
  size_t during = controller_.heartbeats().size() - before;
  controller_.set_busy(false);
  EXPECT_GE(during, 10u);  // every 50 ms; a backoff from 400 ms would have sent 2
  EXPECT_EQ(controller_.registers().size(), 1u);
}

TEST_F(ControllerLinkTest, KeepsRetryingWhileTheControllerIsDownAndLogsItOnce) {
  std::ostringstream log;
  auto saved = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  absl::Cleanup restore = [&] {
    if (agent_) agent_->Stop();
    spdlog::set_default_logger(saved);
  };
  RefusingPort port;
  agent_ = HostAgent::Start(Options(port.port()), Inventory);
  absl::SleepFor(absl::Milliseconds(500));  // several attempts at 20..100 ms
  port.Release();
  StartController(absl::StrCat("127.0.0.1:", port.port()));
  // A heartbeat shows that the agent took the registration's answer (and logged it).
  bool registered = Eventually([&] { return !controller_.heartbeats().empty(); });
  agent_->Stop();
  EXPECT_TRUE(registered);
  EXPECT_EQ(controller_.registers().size(), 1u);
  std::string text = log.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;  // unreachable, registered
  EXPECT_THAT(text, ::testing::HasSubstr("unreachable"));
  EXPECT_THAT(text, ::testing::HasSubstr("registered with controller"));
}

TEST_F(ControllerLinkTest, StopReturnsPromptlyBetweenHeartbeats) {
  StartController();
  HostAgentOptions options = Options(port_);
  agent_ = HostAgent::Start(options, Inventory);
  ASSERT_TRUE(Eventually([&] { return !controller_.heartbeats().empty(); }));
  absl::Time start = absl::Now();
  agent_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  agent_->Stop();  // idempotent
}

TEST_F(ControllerLinkTest, StopCancelsACallInFlight) {
  controller_.set_stall(true);
  StartController();
  HostAgentOptions options = Options(port_);
  options.call_deadline = absl::Seconds(60);
  agent_ = HostAgent::Start(options, Inventory);
  ASSERT_TRUE(Eventually([&] { return !controller_.registers().empty(); }));
  absl::Time start = absl::Now();
  agent_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST(DefaultAdvertiseAddress, IsLoopbackForLocalAndAnyAddresses) {
  EXPECT_EQ(DefaultAdvertiseAddress("127.0.0.1:0", 7001), "127.0.0.1:7001");
  EXPECT_EQ(DefaultAdvertiseAddress("0.0.0.0:7444", 7444), "127.0.0.1:7444");
  EXPECT_EQ(DefaultAdvertiseAddress("[::]:7444", 7444), "127.0.0.1:7444");
  EXPECT_EQ(DefaultAdvertiseAddress("localhost:0", 9), "127.0.0.1:9");
  EXPECT_EQ(DefaultAdvertiseAddress("10.1.2.3:7444", 7444), "10.1.2.3:7444");
}

TEST_F(ControllerLinkTest, WorkerServerRegistersWithItsControllerAndAdvertisedAddress) {
  StartController();
  std::string root = labrack::testing::MakeTempDir("controller-link");
  absl::Cleanup remove = [&] { std::filesystem::remove_all(root); };
  {
    WorkerOptions options;
    options.state_dir = root + "/state";
    options.host_id = "host-w";
    options.domain_type = "auto";  // injected hypervisor: qemu, no probe
    options.controller = absl::StrCat("127.0.0.1:", port_);
    auto worker = WorkerServer::Start(options, std::make_unique<FakeHypervisor>());
    ASSERT_OK(worker);
    EXPECT_EQ((*worker)->advertised_address(), absl::StrCat("127.0.0.1:", (*worker)->port()));
    EXPECT_TRUE(Eventually([&] { return !controller_.heartbeats().empty(); }));
    std::vector<v1::RegisterHostRequest> registers = controller_.registers();
    ASSERT_FALSE(registers.empty());
    EXPECT_EQ(registers[0].host_id(), "host-w");
    EXPECT_EQ(registers[0].address(), (*worker)->advertised_address());
    EXPECT_EQ(registers[0].inventory().host_id(), "host-w");
    EXPECT_EQ(registers[0].inventory().domain_type(), "qemu");
  }
}

}  // namespace
}  // namespace labrack::worker
