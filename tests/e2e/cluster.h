// A whole labrack on loopback for end-to-end tests: a labrack-controller process and
// worker processes (each with its own state folder and host id, on the real
// qemu:///system), the tiny image imported and the smoke topology applied through
// labrackctl. Stop() destroys every sandbox, ends the processes and fails the test if any
// object of its hosts is left. Not thread-safe except Ctl() and the stub.
#ifndef LABRACK_TESTS_E2E_CLUSTER_H_
#define LABRACK_TESTS_E2E_CLUSTER_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labrack/v1/controller.grpc.pb.h"
#include "tests/e2e/subprocess.h"
#include "tests/testing/guest_shell.h"
#include "worker/hypervisor/libvirt_hypervisor.h"

namespace labrack::e2e {

struct ClusterOptions {
  int workers = 2;
  absl::Duration host_timeout = absl::Seconds(6);
  // The controller's --ready-timeout and --cpu-overcommit.
  absl::Duration ready_timeout = absl::Seconds(150);
  int cpu_overcommit = 8;
  // Certificates from deploy/tls.sh for the controller and each worker, every connection
  // TLS (mutual between controller and workers), and labrackctl given the CA.
  bool tls = false;
  // Called with each worker's state folder before that worker first starts (e.g. to put
  // its volumes on a small filesystem).
  std::function<void(const std::string& worker_dir)> prepare_worker_dir = nullptr;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options = {}) : options_(options) {}

  // Fails the current test (fatally) when something cannot start.
  void Start();
  void Stop();

  void StartController();
  // SIGKILL when `signal` is SIGKILL, else a clean stop.
  void StopController(int signal);
  void StartWorker(int i);
  void StopWorker(int i, int signal);
  // Empty while worker i (or the controller) runs or was stopped by the test; else how it
  // ended on its own ("signal 11", "exit 1").
  std::string WorkerDied(int i);
  std::string ControllerDied();

  // Runs labrackctl --server <controller> --token <admin token> args...
  CommandResult Ctl(const std::vector<std::string>& args, const std::string& input = "",
                    absl::Duration timeout = absl::Minutes(5));
  // The same with `token` instead (none when empty).
  CommandResult CtlAs(const std::string& token, const std::vector<std::string>& args,
                      const std::string& input = "", absl::Duration timeout = absl::Minutes(5));
  v1::LabController::Stub& stub() { return *stub_; }
  absl::StatusOr<v1::Sandbox> GetSandbox(const std::string& id);
  // Polls until the sandbox reaches `phase` or `timeout` passes; returns the last state.
  absl::StatusOr<v1::Sandbox> WaitForPhase(const std::string& id, v1::SandboxPhase phase,
                                           absl::Duration timeout);
  // A shell on the serial console of `node` of sandbox `id`, which runs on host i.
  absl::StatusOr<std::unique_ptr<testing::GuestShell>> Shell(int i, const std::string& id,
                                                             const std::string& node);
  // Sandbox ids that host i's libvirt has domains of.
  std::vector<std::string> SandboxesOnHost(int i);
  // Sandbox ids that host i's libvirt has domains or networks of.
  std::set<std::string> SandboxObjectsOnHost(int i);
  // Per sandbox id: how many of its domains on host i are running.
  std::map<std::string, int> RunningDomainsOnHost(int i);

  const std::string& host_id(int i) const { return host_ids_[i]; }
  const std::string& dir() const { return dir_; }
  std::string address() const;
  // The admin token the controller's first start wrote; labrackctl and stub() use it.
  const std::string& admin_token() const { return admin_token_; }
  // Objects of this cluster's hosts present in libvirt, on links, in the host's nftables (port
  // filters) or on disk.
  std::vector<std::string> Leftovers();
  // The last lines of every process log, for failure messages.
  std::string LogTails();

 private:
  std::string Bin(const std::string& name) const;
  // The TLS flags of a daemon whose certificate is <name>.pem; none without options_.tls.
  std::vector<std::string> TlsFlags(const std::string& name) const;

  ClusterOptions options_;
  std::string dir_;
  int port_ = 0;
  std::string admin_token_;
  std::unique_ptr<Daemon> controller_;
  std::vector<std::unique_ptr<Daemon>> workers_;
  std::vector<std::string> host_ids_;
  std::unique_ptr<v1::LabController::Stub> stub_;
  std::unique_ptr<worker::LibvirtHypervisor> hv_;
};

}  // namespace labrack::e2e

#endif  // LABRACK_TESTS_E2E_CLUSTER_H_
