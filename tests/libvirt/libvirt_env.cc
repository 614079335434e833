#include "tests/libvirt/libvirt_env.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/topology/manifest_yaml.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"
#include "worker/client/image_upload.h"
#include "worker/sandbox/sandbox_plan.h"
#include "worker/sandbox/serial_log.h"
#include "common/grpc_util.h"

namespace labrack::worker {
namespace fs = std::filesystem;

namespace {

constexpr absl::Duration kCallDeadline = absl::Minutes(3);

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  return ctx;
}

// Takes the response only after the call has filled it.
template <typename Resp>
absl::StatusOr<Resp> Answer(const grpc::Status& status, const Resp& resp) {
  if (!status.ok()) return FromGrpc(status);
  return resp;
}

}  // namespace

std::string NodeAddress(const v1::SandboxStatus& st, const std::string& node, int nic) {
  for (const v1::NodeStatus& n : st.nodes()) {
    if (n.name() == node && nic < n.addresses_size()) {
      const std::string& a = n.addresses(nic);
      return a.substr(0, a.find('/'));
    }
  }
  return "";
}

void LibvirtEnv::Start(bool templates) {
  templates_ = templates;
  state_dir_ = testing::MakeTempDir("labrack-libvirt");
  host_id_ = absl::StrCat("test-", getpid());
  auto hv = LibvirtHypervisor::Connect("qemu:///system");
  ASSERT_OK(hv) << "is libvirtd running? tests/run.sh starts it";
  hv_ = *std::move(hv);
  StartWorker();
  ASSERT_NE(worker_, nullptr);
  std::string image_dir = absl::StrCat(getenv("LABRACK_SOURCE_DIR"), "/images/out/tiny");
  auto manifest = LoadImageManifestFile(image_dir + "/manifest.yaml");
  ASSERT_OK(manifest) << "build it with images/build.sh tiny";
  ASSERT_OK(UploadImage(*stub_, *manifest, image_dir));
}

void LibvirtEnv::StartWorker() {
  WorkerOptions options;
  options.state_dir = state_dir_;
  options.host_id = host_id_;
  // The probe's answer on this kind of host is known; tests of the probe live elsewhere.
  options.domain_type = "qemu";
  options.ready_timeout = absl::Seconds(120);
  if (templates_) options.template_dir = state_dir_ + "/templates";
  auto worker = WorkerServer::Start(options);
  ASSERT_OK(worker);
  worker_ = *std::move(worker);
  stub_ = v1::LabWorker::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", worker_->port()),
                                                     grpc::InsecureChannelCredentials()));
}

void LibvirtEnv::RestartWorker() {
  stub_.reset();
  worker_.reset();
  StartWorker();
}

void LibvirtEnv::Stop() {
  if (worker_) {
    for (const char* dir : {"sandboxes"}) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(absl::StrCat(state_dir_, "/", dir), ec)) {
        EXPECT_OK(Destroy(e.path().filename().string()));
      }
    }
    auto list = List();
    if (list.ok()) {
      for (const v1::SandboxStatus& s : list->sandboxes()) EXPECT_OK(Destroy(s.sandbox_id()));
    }
    EXPECT_THAT(Leftovers(), ::testing::IsEmpty()) << "a test leaked libvirt objects";
    worker_.reset();
  }
  if (hv_) {
    EXPECT_OK(hv_->RemovePool(absl::StrCat("labrack-", host_id_)));
    // Anything a failed test left behind goes too, so that the host stays clean.
    for (const std::string& name : Leftovers()) {
      hv_->DestroyDomain(name).IgnoreError();
      hv_->DestroyNetwork(name).IgnoreError();
    }
    if (auto filters = hv_->ListPortFilters(); filters.ok()) {
      for (const PortFilterInfo& f : *filters) {
        if (f.host_id == host_id_) hv_->RemovePortFilter(f.sandbox_id).IgnoreError();
      }
    }
  }
  std::error_code ec;
  fs::remove_all(state_dir_, ec);
}

std::vector<std::string> LibvirtEnv::Leftovers() {
  std::vector<std::string> left;
  if (auto doms = hv_->ListDomains(host_id_); doms.ok()) {
    for (const DomainInfo& d : *doms) left.push_back(d.name);
  }
  if (auto nets = hv_->ListNetworks(host_id_); nets.ok()) {
    for (const NetworkInfo& n : *nets) {
      left.push_back(n.name);
      if (fs::exists(absl::StrCat("/sys/class/net/", n.bridge))) left.push_back(n.bridge);
    }
  }
  // Port filters are the host's nftables tables, stamped with the worker's host id.
  if (auto filters = hv_->ListPortFilters(); filters.ok()) {
    for (const PortFilterInfo& f : *filters) {
      if (f.host_id == host_id_) left.push_back(absl::StrCat("nft table bridge lr-", f.sandbox8));
    }
  } else {
    left.push_back(absl::StrCat("port filters unreadable: ", filters.status().ToString()));
  }
  std::error_code ec;
  for (const char* dir : {"volumes", "sandboxes"}) {
    for (const auto& e : fs::directory_iterator(absl::StrCat(state_dir_, "/", dir), ec)) {
      left.push_back(e.path().string());
    }
  }
  return left;
}

absl::StatusOr<v1::SandboxStatus> LibvirtEnv::Create(const std::string& id,
                                                     const v1::Topology& topology,
                                                     bool wait_ready,
                                                     const std::string& password_hash) {
  v1::WorkerCreateSandboxRequest req;
  req.mutable_spec()->set_sandbox_id(id);
  req.mutable_spec()->set_console_password_hash(password_hash);
  req.mutable_spec()->set_generation(1);
  req.mutable_spec()->set_candidate("test-candidate");
  *req.mutable_spec()->mutable_topology() = topology;
  req.set_wait_ready(wait_ready);
  v1::SandboxStatus resp;
  auto ctx = Context();
  grpc::Status status = stub_->CreateSandbox(ctx.get(), req, &resp);
  return Answer(status, resp);
}

absl::StatusOr<v1::SandboxStatus> LibvirtEnv::Get(const std::string& id) {
  v1::WorkerGetSandboxRequest req;
  req.set_sandbox_id(id);
  v1::SandboxStatus resp;
  auto ctx = Context();
  grpc::Status status = stub_->GetSandbox(ctx.get(), req, &resp);
  return Answer(status, resp);
}

absl::StatusOr<v1::WorkerListSandboxesResponse> LibvirtEnv::List() {
  v1::WorkerListSandboxesResponse resp;
  auto ctx = Context();
  grpc::Status status = stub_->ListSandboxes(ctx.get(), {}, &resp);
  return Answer(status, resp);
}

absl::StatusOr<v1::SandboxStatus> LibvirtEnv::Reset(const std::string& id, uint64_t target) {
  v1::WorkerResetSandboxRequest req;
  req.set_sandbox_id(id);
  req.set_target_generation(target);
  req.set_wait_ready(true);
  v1::SandboxStatus resp;
  auto ctx = Context();
  grpc::Status status = stub_->ResetSandbox(ctx.get(), req, &resp);
  return Answer(status, resp);
}

absl::StatusOr<bool> LibvirtEnv::Destroy(const std::string& id) {
  v1::WorkerDestroySandboxRequest req;
  req.set_sandbox_id(id);
  v1::WorkerDestroySandboxResponse resp;
  auto ctx = Context();
  grpc::Status status = stub_->DestroySandbox(ctx.get(), req, &resp);
  if (!status.ok()) return FromGrpc(status);
  return resp.existed();
}

absl::StatusOr<std::unique_ptr<testing::GuestShell>> LibvirtEnv::Shell(const std::string& id,
                                                                       const std::string& node) {
  return testing::GuestShell::Open(hv_.get(), DomainName(id, node),
                                   SerialLogPath(absl::StrCat(state_dir_, "/sandboxes/", id), node));
}

std::string LibvirtEnv::SerialLog(const std::string& id, const std::string& node) const {
  return ReadSerialLogFrom(SerialLogPath(absl::StrCat(state_dir_, "/sandboxes/", id), node), 0);
}

}  // namespace labrack::worker
