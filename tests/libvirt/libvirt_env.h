// A real worker for tests: a WorkerServer on loopback over qemu:///system with its own state
// folder and host id, the tiny image uploaded through gRPC, and helpers to drive sandboxes
// and guests. Stop() destroys everything the tests made and fails the test if anything of
// this worker is left in libvirt, on the host's links or on disk. Not thread-safe except
// the gRPC calls.
#ifndef LABRACK_TESTS_LIBVIRT_LIBVIRT_ENV_H_
#define LABRACK_TESTS_LIBVIRT_LIBVIRT_ENV_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "labrack/v1/worker.grpc.pb.h"
#include "tests/testing/guest_shell.h"
#include "worker/hypervisor/libvirt_hypervisor.h"
#include "worker/worker_server.h"

namespace labrack::worker {

// The address, without its prefix, of `node`'s nic-th NIC in a sandbox's status; empty
// when it has none.
std::string NodeAddress(const v1::SandboxStatus& st, const std::string& node, int nic);

class LibvirtEnv {
 public:
  // Fails the current test (fatally) when libvirt or the tiny image is missing. With
  // `templates`, the worker keeps node templates under <state>/templates (its folder
  // goes with the state folder at Stop).
  void Start(bool templates = false);
  void Stop();

  // `password_hash`: the sandbox's console password hash (SandboxSpec).
  absl::StatusOr<v1::SandboxStatus> Create(const std::string& id, const v1::Topology& topology,
                                           bool wait_ready, const std::string& password_hash = "");
  absl::StatusOr<v1::SandboxStatus> Get(const std::string& id);
  absl::StatusOr<v1::WorkerListSandboxesResponse> List();
  absl::StatusOr<v1::SandboxStatus> Reset(const std::string& id, uint64_t target_generation);
  absl::StatusOr<bool> Destroy(const std::string& id);

  absl::StatusOr<std::unique_ptr<testing::GuestShell>> Shell(const std::string& id,
                                                             const std::string& node);
  std::string SerialLog(const std::string& id, const std::string& node) const;
  // Stops the worker process's server and starts a new one on the same state and host id.
  void RestartWorker();

  // Names of this worker's objects still present: domains, networks, bridges, port filters
  // (nftables tables), volume files, sandbox folders. Empty when clean.
  std::vector<std::string> Leftovers();

  WorkerServer* worker() { return worker_.get(); }
  LibvirtHypervisor& hypervisor() { return *hv_; }
  v1::LabWorker::Stub& stub() { return *stub_; }
  const std::string& host_id() const { return host_id_; }
  const std::string& state_dir() const { return state_dir_; }

 private:
  void StartWorker();

  std::string state_dir_;
  std::string host_id_;
  bool templates_ = false;
  std::unique_ptr<WorkerServer> worker_;
  std::unique_ptr<LibvirtHypervisor> hv_;
  std::unique_ptr<v1::LabWorker::Stub> stub_;
};

}  // namespace labrack::worker

#endif  // LABRACK_TESTS_LIBVIRT_LIBVIRT_ENV_H_
