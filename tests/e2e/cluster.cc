#include "tests/e2e/cluster.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/bearer_channel.h"
#include "common/grpc_util.h"
#include "common/names.h"
#include "common/tls/transport_security.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"
#include "worker/sandbox/sandbox_plan.h"

namespace labrack::e2e {
namespace fs = std::filesystem;
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);
// How Leftovers names a port filter: this, then the sandbox id it is stamped with.
constexpr char kPortFilterPrefix[] = "nft port filter of sandbox ";

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v == nullptr ? "" : v;
}

std::string Tail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    absl::StrAppend(&out, all[i], "\n");
  }
  return out;
}

}  // namespace

std::string Cluster::Bin(const std::string& name) const {
  return absl::StrCat(Env("LABRACK_BINARY_DIR"), "/bin/", name);
}

std::vector<std::string> Cluster::TlsFlags(const std::string& name) const {
  if (!options_.tls) return {};
  std::string dir = dir_ + "/tls";
  return {"--tls-ca", dir + "/ca.pem", "--tls-cert", absl::StrCat(dir, "/", name, ".pem"),
          "--tls-key", absl::StrCat(dir, "/", name, ".key")};
}

std::string Cluster::address() const { return absl::StrCat("127.0.0.1:", port_); }

void Cluster::Start() {
  dir_ = testing::MakeTempDir("labrack-e2e");
  chmod(dir_.c_str(), 0755);  // qemu reads the workers' volumes below it
  auto hv = worker::LibvirtHypervisor::Connect("qemu:///system");
  ASSERT_OK(hv) << "is libvirtd running? tests/run.sh starts it";
  hv_ = *std::move(hv);
  for (int i = 0; i < options_.workers; ++i) {
    host_ids_.push_back(absl::StrCat("e2e-", getpid(), "-", std::string(1, static_cast<char>('a' + i))));
  }
  workers_.resize(options_.workers);
  if (options_.tls) {
    std::vector<std::string> argv = {Env("LABRACK_SOURCE_DIR") + "/deploy/tls.sh", dir_ + "/tls"};
    for (const std::string& id : host_ids_) argv.insert(argv.end(), {"--worker", id});
    CommandResult made = RunCommand(argv, "", absl::Minutes(1));
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  ASSERT_NO_FATAL_FAILURE(StartController());
  for (int i = 0; i < options_.workers; ++i) {
    if (options_.prepare_worker_dir) {
      const std::string worker_dir = absl::StrCat(dir_, "/worker-", i);
      fs::create_directories(worker_dir);
      options_.prepare_worker_dir(worker_dir);
    }
    ASSERT_NO_FATAL_FAILURE(StartWorker(i));
  }
  std::string src = Env("LABRACK_SOURCE_DIR");
  CommandResult image = Ctl({"image", "import", src + "/images/out/tiny/manifest.yaml"});
  ASSERT_EQ(image.exit_code, 0) << image.err << "\nbuild the image with images/build.sh tiny";
  CommandResult topo = Ctl({"topology", "apply", src + "/topologies/smoke.yaml"});
  ASSERT_EQ(topo.exit_code, 0) << topo.err;
}

void Cluster::StartController() {
  std::string port_file = dir_ + "/controller.port";
  fs::remove(port_file);
  std::vector<std::string> argv = {
      Bin("labrack-controller"), "--listen", absl::StrCat("127.0.0.1:", port_),
      "--state-dir", dir_ + "/controller", "--port-file", port_file,
      "--host-timeout", absl::StrCat(absl::ToInt64Seconds(options_.host_timeout)),
      "--heartbeat-interval", "1",
      "--ready-timeout", absl::StrCat(absl::ToInt64Seconds(options_.ready_timeout)),
      "--cpu-overcommit", absl::StrCat(options_.cpu_overcommit)};
  for (const std::string& flag : TlsFlags("controller")) argv.push_back(flag);
  auto daemon = Daemon::Start(argv, dir_ + "/controller.log");
  ASSERT_OK(daemon);
  controller_ = *std::move(daemon);
  absl::Time deadline = absl::Now() + kStartTimeout;
  while (!fs::exists(port_file)) {
    ASSERT_TRUE(controller_->running()) << "labrack-controller exited:\n" << LogTails();
    ASSERT_LT(absl::Now(), deadline) << "labrack-controller did not start:\n" << LogTails();
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::ifstream(port_file) >> port_;
  // The first start wrote it before listening; later starts keep the first one's.
  std::ifstream(dir_ + "/controller/admin.token") >> admin_token_;
  ASSERT_FALSE(admin_token_.empty()) << "no admin token:\n" << LogTails();
  std::optional<TlsMaterial> tls;
  if (options_.tls) {
    TlsOptions ca;
    ca.ca_file = dir_ + "/tls/ca.pem";
    absl::StatusOr<std::optional<TlsMaterial>> loaded = LoadTls(ca, /*need_cert=*/false);
    ASSERT_OK(loaded);
    tls = *loaded;
  }
  stub_ = v1::LabController::NewStub(CreateBearerChannel(address(), ChannelCredentials(tls), admin_token_));
}

void Cluster::StopController(int signal) {
  if (controller_) controller_->Stop(signal);
  controller_.reset();
}

void Cluster::StartWorker(int i) {
  std::vector<std::string> argv = {
      Bin("labrack-worker"), "--listen", "127.0.0.1:0",
      "--state-dir", absl::StrCat(dir_, "/worker-", i), "--host-id", host_ids_[i],
      "--domain-type", "qemu", "--controller", address()};
  for (const std::string& flag : TlsFlags("worker-" + host_ids_[i])) argv.push_back(flag);
  // The address a worker of this host registered before: a restarted worker listens on a
  // new port, so its own registration is the one with another address.
  auto registered = [&]() -> std::optional<v1::Host> {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::ListHostsResponse hosts;
    if (!stub_->ListHosts(&ctx, {}, &hosts).ok()) return std::nullopt;
    for (const v1::Host& h : hosts.hosts()) {
      if (h.host_id() == host_ids_[i]) return h;
    }
    return std::nullopt;
  };
  std::optional<v1::Host> before = registered();
  const std::string old_address = before.has_value() ? before->address() : "";
  auto daemon = Daemon::Start(argv, absl::StrCat(dir_, "/worker-", i, ".log"));
  ASSERT_OK(daemon);
  workers_[i] = *std::move(daemon);
  // Registered and healthy: the controller can place sandboxes there.
  absl::Time deadline = absl::Now() + kStartTimeout;
  for (;;) {
    ASSERT_TRUE(workers_[i]->running()) << "labrack-worker exited:\n" << LogTails();
    ASSERT_LT(absl::Now(), deadline) << "worker " << i << " did not register:\n" << LogTails();
    std::optional<v1::Host> h = registered();
    if (h.has_value() && h->health() == v1::HOST_HEALTH_HEALTHY && !h->address().empty() &&
        h->address() != old_address && workers_[i]->running()) {
      return;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

void Cluster::StopWorker(int i, int signal) {
  if (workers_[i]) workers_[i]->Stop(signal);
  workers_[i].reset();
}

std::string Cluster::WorkerDied(int i) {
  if (!workers_[i] || workers_[i]->running()) return "";
  return workers_[i]->how_it_ended();
}

std::string Cluster::ControllerDied() {
  if (!controller_ || controller_->running()) return "";
  return controller_->how_it_ended();
}

CommandResult Cluster::Ctl(const std::vector<std::string>& args, const std::string& input,
                           absl::Duration timeout) {
  return CtlAs(admin_token_, args, input, timeout);
}

CommandResult Cluster::CtlAs(const std::string& token, const std::vector<std::string>& args,
                             const std::string& input, absl::Duration timeout) {
  std::vector<std::string> argv = {Bin("labrackctl"), "--server", address()};
  if (!token.empty()) argv.insert(argv.end(), {"--token", token});
  if (options_.tls) argv.insert(argv.end(), {"--tls-ca", dir_ + "/tls/ca.pem"});
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, input, timeout);
}

absl::StatusOr<v1::Sandbox> Cluster::GetSandbox(const std::string& id) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::GetSandboxRequest req;
  req.set_sandbox_id(id);
  v1::Sandbox resp;
  grpc::Status s = stub_->GetSandbox(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<v1::Sandbox> Cluster::WaitForPhase(const std::string& id, v1::SandboxPhase phase,
                                                  absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<v1::Sandbox> s;
  do {
    s = GetSandbox(id);
    if (s.ok() && s->phase() == phase) return s;
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < deadline);
  return s;
}

absl::StatusOr<std::unique_ptr<testing::GuestShell>> Cluster::Shell(int i, const std::string& id,
                                                                    const std::string& node) {
  std::string sandbox_dir = absl::StrCat(dir_, "/worker-", i, "/sandboxes/", id);
  return testing::GuestShell::Open(hv_.get(), DomainName(id, node),
                                   worker::SerialLogPath(sandbox_dir, node));
}

std::vector<std::string> Cluster::SandboxesOnHost(int i) {
  std::set<std::string> ids;
  if (auto doms = hv_->ListDomains(host_ids_[i]); doms.ok()) {
    for (const worker::DomainInfo& d : *doms) ids.insert(d.tag.sandbox_id);
  }
  return {ids.begin(), ids.end()};
}

std::set<std::string> Cluster::SandboxObjectsOnHost(int i) {
  std::set<std::string> ids;
  if (auto doms = hv_->ListDomains(host_ids_[i]); doms.ok()) {
    for (const worker::DomainInfo& d : *doms) ids.insert(d.tag.sandbox_id);
  } else {
    ADD_FAILURE() << "list domains: " << doms.status();
  }
  if (auto nets = hv_->ListNetworks(host_ids_[i]); nets.ok()) {
    for (const worker::NetworkInfo& n : *nets) ids.insert(n.tag.sandbox_id);
  } else {
    ADD_FAILURE() << "list networks: " << nets.status();
  }
  return ids;
}

std::map<std::string, int> Cluster::RunningDomainsOnHost(int i) {
  std::map<std::string, int> running;
  if (auto doms = hv_->ListDomains(host_ids_[i]); doms.ok()) {
    for (const worker::DomainInfo& d : *doms) {
      if (d.state == worker::DomainState::kRunning) ++running[d.tag.sandbox_id];
    }
  } else {
    ADD_FAILURE() << "list domains: " << doms.status();
  }
  return running;
}

std::vector<std::string> Cluster::Leftovers() {
  std::vector<std::string> left;
  for (size_t i = 0; i < host_ids_.size(); ++i) {
    if (auto doms = hv_->ListDomains(host_ids_[i]); doms.ok()) {
      for (const worker::DomainInfo& d : *doms) left.push_back(d.name);
    }
    if (auto nets = hv_->ListNetworks(host_ids_[i]); nets.ok()) {
      for (const worker::NetworkInfo& n : *nets) {
        left.push_back(n.name);
        if (fs::exists(absl::StrCat("/sys/class/net/", n.bridge))) left.push_back(n.bridge);
      }
    }
    std::error_code ec;
    for (const char* sub : {"volumes", "sandboxes"}) {
      for (const auto& e : fs::directory_iterator(absl::StrCat(dir_, "/worker-", i, "/", sub), ec)) {
        left.push_back(e.path().string());
      }
    }
  }
  // A bridge named as labrack names them (lr<sandbox8><n>) that no network of the host
  // backs any more, which libvirt leaves when it is killed while starting a network. The
  // e2e tests run one at a time, so every such bridge is this cluster's.
  std::set<std::string> backed;
  for (const std::string& host : host_ids_) {
    if (auto nets = hv_->ListNetworks(host); nets.ok()) {
      for (const worker::NetworkInfo& n : *nets) backed.insert(n.bridge);
    }
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/class/net", ec)) {
    const std::string name = e.path().filename().string();
    if (IsBridgeName(name) && !backed.contains(name)) left.push_back(name);
  }
  // Port filters (the host's nftables tables) stamped with one of the cluster's host ids.
  if (auto filters = hv_->ListPortFilters(); filters.ok()) {
    for (const worker::PortFilterInfo& f : *filters) {
      if (std::find(host_ids_.begin(), host_ids_.end(), f.host_id) != host_ids_.end()) {
        left.push_back(absl::StrCat(kPortFilterPrefix, f.sandbox_id));
      }
    }
  } else {
    left.push_back(absl::StrCat("port filters unreadable: ", filters.status().ToString()));
  }
  return left;
}

void Cluster::Stop() {
  if (dir_.empty()) return;
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (!workers_[i]) StartWorker(static_cast<int>(i));  // a test that stopped a worker leaves its guests
  }
  if (controller_ && stub_) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::ListSandboxesResponse list;
    if (stub_->ListSandboxes(&ctx, {}, &list).ok()) {
      for (const v1::Sandbox& s : list.sandboxes()) {
        CommandResult r = Ctl({"sandbox", "destroy", s.sandbox_id(), "--wait"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
      }
    }
    // Leftovers of failed builds go as orphans within a few reconciler passes.
    absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (!Leftovers().empty() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(500));
    EXPECT_THAT(Leftovers(), ::testing::IsEmpty()) << "the cluster leaked objects\n" << LogTails();
  }
  for (auto& w : workers_) {
    if (w) w->Stop(SIGTERM);
    w.reset();
  }
  StopController(SIGTERM);
  if (hv_) {
    for (const std::string& name : Leftovers()) {  // whatever a failed test left goes too
      hv_->DestroyDomain(name).IgnoreError();
      hv_->DestroyNetwork(name).IgnoreError();
      if (IsBridgeName(name)) hv_->RemoveBridge(name).IgnoreError();
      if (absl::StartsWith(name, kPortFilterPrefix)) {
        hv_->RemovePortFilter(name.substr(strlen(kPortFilterPrefix))).IgnoreError();
      }
    }
    for (const std::string& id : host_ids_) hv_->RemovePool(absl::StrCat("labrack-", id)).IgnoreError();
  }
  if (::testing::UnitTest::GetInstance()->failed_test_count() > 0) {
    std::cout << "logs of the cluster's processes:\n" << LogTails();
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
  dir_.clear();
}

std::string Cluster::LogTails() {
  std::string out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().extension() != ".log") continue;
    absl::StrAppend(&out, "--- ", e.path().filename().string(), "\n", Tail(e.path(), 60));
  }
  return out;
}

}  // namespace labrack::e2e
