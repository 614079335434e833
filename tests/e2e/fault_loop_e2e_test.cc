// Faults on purpose, with real processes and guests on one host: a loop of random
// operations (create, reset, clone, destroy, session create and end) with random SIGKILLs
// of the worker, the controller and libvirtd between and right after them. Every answer
// the client got is kept; at the end, with everything running again and settled: no
// sandbox the client was told was made is missing from the store, none it was told was
// destroyed is anything but DESTROYED, no acknowledged reset is undone, every sandbox the
// store calls READY has all its guests running, and the host holds nothing of any other
// sandbox. Then a sandbox created on a worker whose disk is full ends FAILED with the
// reason, leaving nothing behind. LABRACK_FAULT_OPS (default 200) and LABRACK_FAULT_SEED
// (default: the time) set the loop; the seed is printed, so a failure can be replayed.
#include <signal.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_util.h"
#include "common/names.h"
#include "common/proto_time.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster.h"
#include "tests/testing/status_matchers.h"

namespace labrack::e2e {
namespace {

constexpr int kMaxLive = 4;
constexpr absl::Duration kCallDeadline = absl::Seconds(15);
constexpr absl::Duration kSettleTimeout = absl::Minutes(8);

void WriteTopology(const std::string& path) {
  std::ofstream(path) << "name: fault-lab\n"
                      << "networks:\n  - name: lan\n    cidr: 10.40.0.0/24\n"
                      << "nodes:\n  - name: server\n    role: server\n    image: tiny\n"
                      << "    vcpus: 1\n    memory_mib: 128\n    nics:\n      - network: lan\n";
}

int EnvInt(const char* name, int fallback) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

// libvirtd, killed with SIGKILL and started again as tests/run.sh started it.
void KillLibvirtd() {
  int pid = 0;
  std::ifstream("/var/run/libvirtd.pid") >> pid;
  if (pid > 1 && kill(pid, SIGKILL) == 0) {
    for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) absl::SleepFor(absl::Milliseconds(50));
  }
}

bool LibvirtdAnswers() {
  return RunCommand({"virsh", "-c", "qemu:///system", "version"}, "", absl::Seconds(5)).exit_code == 0;
}

void StartLibvirtd() {
  if (LibvirtdAnswers()) return;
  RunCommand({"libvirtd", "-d"}, "", absl::Seconds(10));
  for (int i = 0; i < 100 && !LibvirtdAnswers(); ++i) absl::SleepFor(absl::Milliseconds(100));
  ASSERT_TRUE(LibvirtdAnswers()) << "libvirtd did not come back";
}

bool Settled(v1::SandboxPhase p) {
  return p == v1::SANDBOX_PHASE_READY || p == v1::SANDBOX_PHASE_FAILED ||
         p == v1::SANDBOX_PHASE_DESTROYED;
}

class FaultLoopE2e : public ::testing::Test {
 protected:
  void TearDown() override {
    StartLibvirtd();
    // Lazily: the worker may still hold the folder; what it writes next lands beneath.
    if (!mounted_.empty()) umount2(mounted_.c_str(), MNT_DETACH);
    if (cluster_) cluster_->Stop();
  }

  void StartCluster(ClusterOptions options) {
    options.workers = 1;
    options.ready_timeout = absl::Seconds(90);
    cluster_ = std::make_unique<Cluster>(options);
    ASSERT_NO_FATAL_FAILURE(cluster_->Start());
    const std::string topology = cluster_->dir() + "/fault-lab.yaml";
    WriteTopology(topology);
    CommandResult applied = cluster_->Ctl({"topology", "apply", topology});
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
  }

  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (v1::LabController::Stub::*method)(grpc::ClientContext*,
                                                                   const Req&, Resp*),
                    const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
    return (cluster_->stub().*method)(&ctx, req, resp);
  }

  std::vector<v1::Sandbox> List() {
    v1::ListSandboxesRequest req;
    req.set_include_destroyed(true);
    v1::ListSandboxesResponse resp;
    if (!Call(&v1::LabController::Stub::ListSandboxes, req, &resp).ok()) return {};
    return {resp.sandboxes().begin(), resp.sandboxes().end()};
  }

  // Sandboxes READY in the store, waiting up to `timeout` for the first to become so.
  std::vector<std::string> WaitForReady(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      std::vector<std::string> ready;
      for (const v1::Sandbox& s : List()) {
        if (s.phase() == v1::SANDBOX_PHASE_READY) ready.push_back(s.sandbox_id());
      }
      if (!ready.empty() || absl::Now() >= deadline) return ready;
      absl::SleepFor(absl::Milliseconds(500));
    }
  }

  std::unique_ptr<Cluster> cluster_;
  // A tmpfs mounted for a test, unmounted in TearDown.
  std::string mounted_;
};

TEST_F(FaultLoopE2e, NothingAcknowledgedIsLostAndNothingIsLeftAfterRandomKills) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({}));
  const int ops = EnvInt("LABRACK_FAULT_OPS", 200);
  const unsigned seed = static_cast<unsigned>(EnvInt("LABRACK_FAULT_SEED", static_cast<int>(absl::ToUnixSeconds(absl::Now()))));
  std::cout << "fault loop: " << ops << " operations, LABRACK_FAULT_SEED=" << seed << std::endl;
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };

  std::set<std::string> created, destroyed;           // acknowledged
  std::map<std::string, uint64_t> reset_to;            // acknowledged generation
  std::set<std::string> sessions, ended;               // acknowledged
  std::map<std::string, int> counts;                   // what the loop did
  // Operations left before a killed part is started again (-1: it runs). A kill lands in
  // the middle of whatever the operations before it started; the ones after it meet the
  // part down.
  int worker_down = -1, controller_down = -1, libvirtd_down = -1;
  bool controller_up = true, worker_up = true;

  for (int op = 0; op < ops; ++op) {
    if (libvirtd_down == 0) StartLibvirtd();
    if (controller_down == 0) {
      ASSERT_NO_FATAL_FAILURE(cluster_->StartController());
      controller_up = true;
    }
    if (worker_down == 0 && controller_up) {
      StartLibvirtd();  // a worker does not start without it
      ASSERT_NO_FATAL_FAILURE(cluster_->StartWorker(0));
      worker_up = true;
    }
    for (int* down : {&worker_down, &controller_down, &libvirtd_down}) {
      if (*down >= 0) --*down;
    }
    if (!worker_up && worker_down < 0) worker_down = 0;  // waited for the controller

    // A part that ends without a kill of the loop's is a bug of its own (a crash).
    if (std::string how = worker_up ? cluster_->WorkerDied(0) : ""; !how.empty()) {
      ADD_FAILURE() << "the worker ended on its own (" << how << ") before operation " << op
                    << ":\n" << cluster_->LogTails();
      worker_up = false;
      worker_down = 0;
    }
    if (std::string how = controller_up ? cluster_->ControllerDied() : ""; !how.empty()) {
      ADD_FAILURE() << "the controller ended on its own (" << how << ") before operation " << op
                    << ":\n" << cluster_->LogTails();
      controller_up = false;
      controller_down = 0;
    }
    // What the store has now (empty while the controller is down).
    std::vector<v1::Sandbox> now = controller_up ? List() : std::vector<v1::Sandbox>{};
    std::vector<std::string> live, ready;
    for (const v1::Sandbox& s : now) {
      if (s.phase() != v1::SANDBOX_PHASE_DESTROYED && s.phase() != v1::SANDBOX_PHASE_DESTROYING) {
        live.push_back(s.sandbox_id());
      }
      if (s.phase() == v1::SANDBOX_PHASE_READY) ready.push_back(s.sandbox_id());
    }
    std::vector<std::string> open_sessions;
    for (const std::string& id : sessions) {
      if (!ended.contains(id)) open_sessions.push_back(id);
    }
    const int roll = pick(100);
    const std::string rid = absl::StrCat("fault-", seed, "-", op);
    if (roll < 7 && worker_up) {
      ++counts["kill worker"];
      cluster_->StopWorker(0, SIGKILL);
      worker_up = false;
      worker_down = 1 + pick(3);
    } else if (roll < 14 && controller_up) {
      ++counts["kill controller"];
      cluster_->StopController(SIGKILL);
      controller_up = false;
      controller_down = 1 + pick(3);
    } else if (roll < 20 && libvirtd_down < 0) {
      ++counts["kill libvirtd"];
      KillLibvirtd();
      libvirtd_down = 1 + pick(3);
    } else if (!controller_up) {
      ++counts["call to a dead controller"];
      v1::GetSandboxRequest req;
      req.set_sandbox_id("00000000-0000-4000-8000-000000000000");
      v1::Sandbox resp;
      EXPECT_FALSE(Call(&v1::LabController::Stub::GetSandbox, req, &resp).ok());
    } else if (roll < 48 && static_cast<int>(live.size()) < kMaxLive) {
      ++counts["create"];
      v1::CreateSandboxRequest req;
      req.set_topology("fault-lab");
      req.set_candidate(absl::StrCat("c", op));
      req.set_request_id(rid);
      v1::Sandbox resp;
      if (Call(&v1::LabController::Stub::CreateSandbox, req, &resp).ok()) {
        created.insert(resp.sandbox_id());
      }
    } else if (roll < 68 && !live.empty() && worker_up && libvirtd_down < 0) {
      // Resets and clones need a READY sandbox. Rather than hope one is READY when the roll
      // comes, wait for one of the live ones to boot: the kills that follow then land in
      // the middle of resets and clones too.
      if (ready.empty()) ready = WaitForReady(absl::Seconds(40));
      if (ready.empty()) {
        ++counts["no sandbox became ready"];
      } else if (roll < 59 || static_cast<int>(live.size()) >= kMaxLive) {
        ++counts["reset"];
        v1::ResetSandboxRequest req;
        req.set_sandbox_id(ready[pick(static_cast<int>(ready.size()))]);
        v1::Sandbox resp;
        if (Call(&v1::LabController::Stub::ResetSandbox, req, &resp).ok()) {
          reset_to[resp.sandbox_id()] = std::max(reset_to[resp.sandbox_id()], resp.generation());
        }
      } else {
        ++counts["clone"];
        v1::CloneSandboxRequest req;
        req.set_sandbox_id(ready[pick(static_cast<int>(ready.size()))]);
        req.set_count(1);
        req.set_request_id(absl::StrCat("f", seed % 100000, "-", op));
        v1::CloneSandboxResponse resp;
        grpc::ClientContext ctx;
        ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(2)));
        if (cluster_->stub().CloneSandbox(&ctx, req, &resp).ok()) {
          ++counts["clone acknowledged"];
          for (const v1::Sandbox& s : resp.sandboxes()) created.insert(s.sandbox_id());
        }
      }
    } else if (roll < 73 && static_cast<int>(live.size()) < kMaxLive) {
      ++counts["session create"];
      v1::CreateSessionRequest req;
      req.set_name(absl::StrCat("fault-", op));
      req.set_topology("fault-lab");
      req.add_candidates(absl::StrCat("s", op));
      req.set_duration_seconds(3600);
      req.set_skip_evidence(true);
      req.set_request_id(rid);
      v1::Session resp;
      if (Call(&v1::LabController::Stub::CreateSession, req, &resp).ok()) {
        sessions.insert(resp.session_id());
      }
    } else if (roll < 78 && !open_sessions.empty()) {
      ++counts["session end"];
      v1::EndSessionRequest req;
      req.set_session(open_sessions[pick(static_cast<int>(open_sessions.size()))]);
      v1::Session resp;
      if (Call(&v1::LabController::Stub::EndSession, req, &resp).ok()) ended.insert(req.session());
    } else if (roll < 90 && !live.empty()) {
      ++counts["destroy"];
      v1::DestroySandboxRequest req;
      req.set_sandbox_id(live[pick(static_cast<int>(live.size()))]);
      v1::Sandbox resp;
      if (Call(&v1::LabController::Stub::DestroySandbox, req, &resp).ok()) {
        destroyed.insert(req.sandbox_id());
      }
    } else {
      ++counts["wait"];
      absl::SleepFor(absl::Milliseconds(200 + pick(1500)));
    }
  }

  // Everything up again, then wait for every sandbox and session to settle.
  StartLibvirtd();
  if (!controller_up) {
    ASSERT_NO_FATAL_FAILURE(cluster_->StartController());
  }
  if (!worker_up) {
    ASSERT_NO_FATAL_FAILURE(cluster_->StartWorker(0));
  }
  const absl::Time settle_start = absl::Now();
  std::vector<v1::Sandbox> final_state;
  for (;;) {
    final_state = List();
    bool settled = !final_state.empty() || created.empty();
    for (const v1::Sandbox& s : final_state) settled = settled && Settled(s.phase());
    for (const std::string& id : ended) {
      v1::GetSessionRequest req;
      req.set_session(id);
      v1::Session s;
      settled = settled && Call(&v1::LabController::Stub::GetSession, req, &s).ok() &&
                s.phase() == v1::SESSION_PHASE_ENDED;
    }
    if (settled) break;
    ASSERT_LT(absl::Now(), settle_start + kSettleTimeout)
        << "not settled within " << kSettleTimeout << ":\n" << cluster_->LogTails();
    absl::SleepFor(absl::Seconds(1));
  }
  std::map<std::string, v1::Sandbox> by_id;
  std::map<v1::SandboxPhase, int> phases;
  for (const v1::Sandbox& s : final_state) {
    by_id[s.sandbox_id()] = s;
    ++phases[s.phase()];
  }
  std::cout << "fault loop: settled " << absl::FormatDuration(absl::Now() - settle_start)
            << " after the last operation;";
  for (const auto& [what, n] : counts) std::cout << " " << what << " " << n << ",";
  std::cout << " acknowledged: " << created.size() << " created, " << destroyed.size()
            << " destroyed, " << reset_to.size() << " reset, " << sessions.size()
            << " sessions, " << ended.size() << " ended; final: "
            << phases[v1::SANDBOX_PHASE_READY] << " READY, " << phases[v1::SANDBOX_PHASE_FAILED]
            << " FAILED, " << phases[v1::SANDBOX_PHASE_DESTROYED] << " DESTROYED" << std::endl;

  EXPECT_GT(counts["reset"] + counts["clone"], 0) << "no sandbox became READY in the loop";
  for (const std::string& id : created) {
    EXPECT_TRUE(by_id.contains(id)) << "acknowledged sandbox " << id << " is lost";
  }
  for (const std::string& id : destroyed) {
    ASSERT_TRUE(by_id.contains(id)) << id;
    EXPECT_EQ(by_id[id].phase(), v1::SANDBOX_PHASE_DESTROYED) << id << ": " << by_id[id].message();
  }
  for (const auto& [id, generation] : reset_to) {
    const v1::Sandbox& s = by_id[id];
    if (s.phase() == v1::SANDBOX_PHASE_READY) {
      EXPECT_GE(s.generation(), generation) << id << ": an acknowledged reset was undone";
    }
  }
  // READY means running guests; nothing else has anything on the host.
  const std::map<std::string, int> running = cluster_->RunningDomainsOnHost(0);
  for (const auto& [id, s] : by_id) {
    if (s.phase() != v1::SANDBOX_PHASE_READY) continue;
    auto it = running.find(id);
    EXPECT_EQ(it == running.end() ? 0 : it->second, s.nodes_size())
        << "READY sandbox " << id << " has not all its guests running";
  }
  // Orphans go within a few reconciler passes.
  std::set<std::string> stray;
  for (int attempt = 0; attempt < 60; ++attempt) {
    stray.clear();
    for (const std::string& id : cluster_->SandboxObjectsOnHost(0)) {
      auto it = by_id.find(id);
      if (it == by_id.end() || it->second.phase() != v1::SANDBOX_PHASE_READY) stray.insert(id);
    }
    if (stray.empty()) break;
    absl::SleepFor(absl::Seconds(2));
  }
  EXPECT_TRUE(stray.empty()) << stray.size() << " sandboxes not READY still have objects on the host, e.g. "
                             << *stray.begin();
}

TEST_F(FaultLoopE2e, ACreateOnAFullDiskFailsWithTheReasonAndLeavesNothing) {
  ClusterOptions options;
  int mount_errno = 0;
  options.prepare_worker_dir = [&](const std::string& worker_dir) {
    const std::string volumes = worker_dir + "/volumes";
    std::filesystem::create_directories(volumes);
    // Room for no qcow2 overlay (its header alone takes 192 KiB).
    if (mount("tmpfs", volumes.c_str(), "tmpfs", 0, "size=64k") == 0) {
      mounted_ = volumes;
    } else {
      mount_errno = errno;
    }
  };
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  if (mounted_.empty()) GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << std::strerror(mount_errno);
  const std::string mounted = mounted_;
  CommandResult r = cluster_->Ctl({"-o", "json", "sandbox", "create", "--topology", "fault-lab",
                                  "--candidate", "full", "--wait"});
  EXPECT_EQ(r.exit_code, 7) << r.out << r.err;  // the sandbox became FAILED
  std::vector<v1::Sandbox> all = List();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].phase(), v1::SANDBOX_PHASE_FAILED);
  EXPECT_THAT(all[0].message(), ::testing::HasSubstr("No space left on device"));
  EXPECT_TRUE(cluster_->SandboxObjectsOnHost(0).empty());
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(mounted)) {
    ++files;
    ADD_FAILURE() << "left on the full disk: " << e.path();
  }
  EXPECT_EQ(files, 0u);
}

// The reconciler's bounds, measured: an object tagged with the host's id that the store
// does not know is removed within 120 s; a READY sandbox whose guest vanished is FAILED
// within 60 s; a destroy leaves DESTROYING within 120 s. The figures are printed for
// docs/reliability.md.
TEST_F(FaultLoopE2e, OrphansVanishedGuestsAndDestroysConvergeWithinTheirBounds) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({}));
  auto hv = worker::LibvirtHypervisor::Connect("qemu:///system");
  ASSERT_OK(hv);

  // An orphan: a network of this host for a sandbox nobody asked for.
  const std::string orphan = "0a0a0a0a-0000-4000-8000-00000000000f";
  worker::NetworkSpec net;
  net.name = NetworkName(orphan, "lan");
  net.bridge = BridgeName(orphan, 0);
  net.tag.host_id = cluster_->host_id(0);
  net.tag.sandbox_id = orphan;
  absl::Time made = absl::Now();
  ASSERT_OK((*hv)->CreateNetwork(net));
  absl::Duration orphan_gone = absl::InfiniteDuration();
  while (absl::Now() < made + absl::Seconds(150)) {
    if (!cluster_->SandboxObjectsOnHost(0).contains(orphan)) {
      orphan_gone = absl::Now() - made;
      break;
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
  if (orphan_gone == absl::InfiniteDuration()) (*hv)->DestroyNetwork(net.name).IgnoreError();
  EXPECT_LE(orphan_gone, absl::Seconds(120)) << "the orphan network was not removed";

  // A READY sandbox whose guest vanishes behind labrack's back.
  CommandResult r = cluster_->Ctl({"-o", "json", "sandbox", "create", "--topology", "fault-lab",
                                   "--candidate", "v", "--wait"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<v1::Sandbox> all = List();
  ASSERT_EQ(all.size(), 1u);
  const std::string id = all[0].sandbox_id();
  const absl::Time vanished = absl::Now();
  ASSERT_OK((*hv)->DestroyDomain(DomainName(id, "server")));
  absl::Duration failed_after = absl::InfiniteDuration();
  while (absl::Now() < vanished + absl::Seconds(90)) {
    auto s = cluster_->GetSandbox(id);
    if (s.ok() && s->phase() == v1::SANDBOX_PHASE_FAILED) {
      failed_after = absl::Now() - vanished;
      std::cout << "vanished guest: " << s->message() << std::endl;
      break;
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
  EXPECT_LE(failed_after, absl::Seconds(60)) << "a sandbox whose guest vanished is not FAILED";

  // Destroy: out of DESTROYING, and its objects gone.
  r = cluster_->Ctl({"-o", "json", "sandbox", "create", "--topology", "fault-lab",
                     "--candidate", "d", "--wait"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string live;
  for (const v1::Sandbox& s : List()) {
    if (s.phase() == v1::SANDBOX_PHASE_READY) live = s.sandbox_id();
  }
  ASSERT_FALSE(live.empty());
  v1::DestroySandboxRequest destroy;
  destroy.set_sandbox_id(live);
  v1::Sandbox answer;
  const absl::Time asked = absl::Now();
  ASSERT_TRUE(Call(&v1::LabController::Stub::DestroySandbox, destroy, &answer).ok());
  auto gone = cluster_->WaitForPhase(live, v1::SANDBOX_PHASE_DESTROYED, absl::Seconds(150));
  const absl::Duration destroying = absl::Now() - asked;
  ASSERT_OK(gone);
  EXPECT_EQ(gone->phase(), v1::SANDBOX_PHASE_DESTROYED);
  EXPECT_LE(destroying, absl::Seconds(120));
  EXPECT_FALSE(cluster_->SandboxObjectsOnHost(0).contains(live));
  std::cout << "convergence: orphan network removed after " << absl::FormatDuration(orphan_gone)
            << "; vanished guest's sandbox FAILED after " << absl::FormatDuration(failed_after)
            << "; destroy DESTROYED after " << absl::FormatDuration(destroying) << std::endl;

  // A hung libvirtd (stopped, not dead): a call on a connection to it ends with an error
  // instead of waiting for ever, and the connection is made anew once it answers again.
  int pid = 0;
  std::ifstream("/var/run/libvirtd.pid") >> pid;
  ASSERT_GT(pid, 1);
  ASSERT_OK((*hv)->ListDomains(cluster_->host_id(0)));
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  const absl::Time stopped = absl::Now();
  absl::Status hung = (*hv)->ListDomains(cluster_->host_id(0)).status();
  const absl::Duration gave_up = absl::Now() - stopped;
  kill(pid, SIGCONT);
  EXPECT_FALSE(hung.ok()) << "a call to a stopped libvirtd succeeded";
  EXPECT_LE(gave_up, absl::Seconds(60));
  std::cout << "hung libvirtd: the call ended after " << absl::FormatDuration(gave_up) << ": "
            << hung << std::endl;
  absl::StatusOr<std::vector<worker::DomainInfo>> again;
  for (int i = 0; i < 50; ++i) {
    again = (*hv)->ListDomains(cluster_->host_id(0));
    if (again.ok()) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_OK(again) << "no new connection once libvirtd answered again";
}

}  // namespace
}  // namespace labrack::e2e
