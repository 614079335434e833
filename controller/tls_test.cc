// TLS between the parts, with certificates that deploy/tls.sh makes: a worker holding a
// certificate the deployment's CA signed for its host id registers and builds sandboxes
// for the controller; a worker with a self-signed certificate, with another host's, or
// with none cannot register; only the controller's certificate may call a worker; clients
// verify the controller by the CA; plain text is served on loopback only unless
// --insecure; bad TLS flags are refused before anything is written.
#include <cstdlib>
#include <filesystem>

#include "common/tls/transport_security.h"
#include "controller/controller_test_fixture.h"
#include "gmock/gmock.h"
#include "labrack/v1/worker.grpc.pb.h"
#include "worker/host/host_command.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

std::string SourceDir() {
  const char* dir = std::getenv("LABRACK_SOURCE_DIR");
  return dir == nullptr ? "." : dir;
}

// Certificates for the controller, host-a and host-b, made once for the whole suite.
class TlsTest : public ControllerTest {
 protected:
  static void SetUpTestSuite() {
    certs_ = new std::string(labrack::testing::MakeTempDir("labrack-tls"));
    absl::Status made = worker::RunHostCommand(
        {SourceDir() + "/deploy/tls.sh", *certs_, "--worker", "host-a", "--worker", "host-b"},
        absl::Seconds(60));
    ASSERT_TRUE(made.ok()) << made;
    // A CA of its own, which the deployment never trusted.
    made = worker::RunHostCommand({SourceDir() + "/deploy/tls.sh", *certs_ + "/rogue", "--worker",
                                   "host-a"},
                                  absl::Seconds(60));
    ASSERT_TRUE(made.ok()) << made;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*certs_);
    delete certs_;
  }

  static TlsOptions Tls(const std::string& name, const std::string& dir = *certs_) {
    TlsOptions tls;
    tls.ca_file = *certs_ + "/ca.pem";  // the deployment's CA, whoever signed the certificate
    tls.cert_file = absl::StrCat(dir, "/", name, ".pem");
    tls.key_file = absl::StrCat(dir, "/", name, ".key");
    return tls;
  }
  static std::optional<TlsMaterial> Material(const TlsOptions& tls) {
    auto m = LoadTls(tls, /*need_cert=*/false);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *m : std::nullopt;
  }
  static std::optional<TlsMaterial> CaOnly() {
    TlsOptions tls;
    tls.ca_file = *certs_ + "/ca.pem";
    return Material(tls);
  }

  void Configure(ControllerOptions& options) override { options.tls = Tls("controller"); }
  void ConfigureWorker(worker::WorkerOptions& options) override {
    options.tls = Tls("worker-host-a");
  }
  std::shared_ptr<grpc::ChannelCredentials> ClientCredentials() override {
    return ChannelCredentials(CaOnly());
  }

  // A worker of host id `host_id` with `tls`, on a fake hypervisor of its own.
  absl::StatusOr<std::unique_ptr<worker::WorkerServer>> OtherWorker(const std::string& host_id,
                                                                    const TlsOptions& tls) {
    worker::WorkerOptions options;
    options.state_dir = absl::StrCat(root_, "/worker-", host_id);
    options.host_id = host_id;
    options.domain_type = "qemu";
    options.controller = absl::StrCat("127.0.0.1:", controller_->port());
    options.tls = tls;
    return worker::WorkerServer::Start(options, std::make_unique<worker::ForwardingHypervisor>(&other_hv_));
  }

  std::vector<std::string> HostIds() {
    v1::ListHostsResponse hosts;
    EXPECT_OK(Call(&v1::LabController::Stub::ListHosts, v1::ListHostsRequest(), &hosts));
    std::vector<std::string> ids;
    for (const v1::Host& h : hosts.hosts()) ids.push_back(h.host_id());
    return ids;
  }

  // RegisterHost as host `host_id`, presenting `tls`'s certificate.
  absl::Status RegisterAs(const std::string& host_id, const std::optional<TlsMaterial>& tls) {
    auto stub = v1::LabController::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", controller_->port()), ChannelCredentials(tls)));
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::RegisterHostRequest req;
    req.set_host_id(host_id);
    req.set_address("127.0.0.1:1");
    v1::RegisterHostResponse resp;
    return FromGrpc(stub->RegisterHost(&ctx, req, &resp));
  }

  // GetInventory of the host-a worker, presenting `tls`'s certificate.
  absl::Status CallWorkerAs(const std::optional<TlsMaterial>& tls) {
    auto stub = v1::LabWorker::NewStub(
        grpc::CreateChannel(worker_->advertised_address(), ChannelCredentials(tls)));
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::Inventory inventory;
    return FromGrpc(stub->GetInventory(&ctx, v1::GetInventoryRequest(), &inventory));
  }

  static std::string* certs_;
  worker::FakeHypervisor other_hv_{"LABRACK-READY"};
};

std::string* TlsTest::certs_ = nullptr;

TEST_F(TlsTest, AWorkerWithItsCertificateRegistersAndBuildsForTheController) {
  // SetUp registered host-a over mTLS and imported the image over TLS.
  auto s = Create("mini");
  ASSERT_OK(s);
  EXPECT_TRUE(WaitPhase(s->sandbox_id(), v1::SANDBOX_PHASE_READY)) << Get(s->sandbox_id()).message();
  EXPECT_EQ(Get(s->sandbox_id()).host_id(), "host-a");
}

TEST_F(TlsTest, OnlyACertificateTheCaSignedForItsHostIdRegisters) {
  EXPECT_THAT(RegisterAs("host-c", Material(Tls("worker-host-b"))),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "host_id: host-c needs a client certificate for host-c signed by the "
                       "deployment's CA; the caller's is for host-b"));
  EXPECT_THAT(RegisterAs("host-b", CaOnly()),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("the caller's is missing")));
  // A certificate of another CA fails the handshake; so does plain text.
  EXPECT_THAT(RegisterAs("host-a", Material(Tls("worker-host-a", *certs_ + "/rogue"))),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(RegisterAs("host-a", std::nullopt), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(RegisterAs("host-b", Material(Tls("worker-host-b"))), labrack::testing::IsOk());

  // Whole workers: a self-signed one and one claiming another host's id never show up.
  auto rogue = OtherWorker("host-x", Tls("worker-host-a", *certs_ + "/rogue"));
  ASSERT_OK(rogue);
  auto impostor = OtherWorker("host-y", Tls("worker-host-b"));
  ASSERT_OK(impostor);
  absl::SleepFor(absl::Seconds(2));  // many heartbeat intervals
  EXPECT_THAT(HostIds(), ::testing::UnorderedElementsAre("host-a", "host-b"));
}

TEST_F(TlsTest, OnlyTheControllerMayCallAWorker) {
  EXPECT_OK(CallWorkerAs(Material(Tls("controller"))));
  EXPECT_THAT(CallWorkerAs(Material(Tls("worker-host-b"))),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("only labrack-controller may call this server; the caller's "
                                 "certificate is named host-b")));
  EXPECT_THAT(CallWorkerAs(CaOnly()), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(CallWorkerAs(std::nullopt), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(TlsTest, AClientVerifiesTheControllerByTheCa) {
  auto plain = v1::LabController::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", controller_->port()), grpc::InsecureChannelCredentials()));
  TlsOptions other;
  other.ca_file = *certs_ + "/rogue/ca.pem";
  auto wrong_ca = v1::LabController::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", controller_->port()), ChannelCredentials(Material(other))));
  for (auto* stub : {plain.get(), wrong_ca.get()}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::ListHostsResponse hosts;
    EXPECT_THAT(FromGrpc(stub->ListHosts(&ctx, v1::ListHostsRequest(), &hosts)),
                StatusIs(absl::StatusCode::kUnavailable));
  }
}

// Server options alone: no fixture needed.
class TlsOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = labrack::testing::MakeTempDir("labrack-tls-options"); }
  void TearDown() override { std::filesystem::remove_all(root_); }
  absl::Status StartController(ControllerOptions options) {
    options.state_dir = root_ + "/state";
    absl::StatusOr<std::unique_ptr<ControllerServer>> c = ControllerServer::Start(options);
    if (c.ok()) (*c)->Shutdown();
    return c.status();
  }
  std::string root_;
};

TEST_F(TlsOptionsTest, PlainTextOffLoopbackNeedsInsecureAndBadFlagsChangeNothing) {
  ControllerOptions options;
  options.listen = "0.0.0.0:0";
  EXPECT_THAT(StartController(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--listen: 0.0.0.0:0 is not a loopback address, so plain text "
                                 "is refused")));
  options.tls.cert_file = root_ + "/missing.pem";
  options.tls.key_file = root_ + "/missing.key";
  EXPECT_THAT(StartController(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-ca: required")));
  options.tls.ca_file = root_ + "/missing-ca.pem";
  EXPECT_THAT(StartController(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-ca: cannot read")));
  options.tls.key_file.clear();
  EXPECT_THAT(StartController(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("go together")));
  options.all_in_one = true;
  EXPECT_THAT(StartController(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--all-in-one: not with TLS")));
  EXPECT_FALSE(std::filesystem::exists(root_ + "/state"));

  ControllerOptions insecure;
  insecure.listen = "0.0.0.0:0";
  insecure.tls.insecure = true;
  EXPECT_OK(StartController(insecure));
  ControllerOptions loopback;
  loopback.listen = "127.0.0.1:0";
  EXPECT_OK(StartController(loopback));
}

TEST_F(TlsOptionsTest, AWorkerRefusesPlainTextOffLoopbackBeforeTouchingAnything) {
  worker::FakeHypervisor hv;
  worker::WorkerOptions options;
  options.state_dir = root_ + "/worker";
  options.listen = "0.0.0.0:0";
  EXPECT_THAT(worker::WorkerServer::Start(options, std::make_unique<worker::ForwardingHypervisor>(&hv)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--listen: 0.0.0.0:0 is not a loopback address")));
  options.listen = "127.0.0.1:0";
  options.tls.ca_file = root_ + "/missing-ca.pem";
  EXPECT_THAT(worker::WorkerServer::Start(options, std::make_unique<worker::ForwardingHypervisor>(&hv)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-cert: required")));
  EXPECT_FALSE(std::filesystem::exists(root_ + "/worker"));
  EXPECT_EQ(hv.domain_count() + hv.network_count(), 0);
}

TEST(LoopbackAddress, IsTheLoopbackNetworkOrLocalhost) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:7443"));
  EXPECT_TRUE(IsLoopbackAddress("127.1.2.3:0"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:7443"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:7443"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:7443"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:7443"));
  EXPECT_FALSE(IsLoopbackAddress(":7443"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1:7443"));
  EXPECT_FALSE(IsLoopbackAddress("127.example.com:7443"));
}

}  // namespace
}  // namespace labrack::controller
