// WorkerClient and WorkerDirectory over gRPC: the controller's real way to reach workers.
// Every call carries a deadline; gRPC statuses become absl::Status with the same code and
// the worker's address in the message. Thread-safe; a ConsoleRelay follows its interface's
// rules (one reader, one writer, Close() from anywhere).
#ifndef LABRACK_CONTROLLER_WORKERS_GRPC_WORKER_CLIENT_H_
#define LABRACK_CONTROLLER_WORKERS_GRPC_WORKER_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/workers/worker_client.h"
#include "labrack/v1/worker.grpc.pb.h"

namespace labrack::controller {

struct WorkerClientOptions {
  // GetInventory, GetSandbox and opening a console.
  absl::Duration quick_deadline = absl::Seconds(10);
  // DestroySandbox: stopping and removing every guest of a large sandbox on a busy host
  // takes longer than a quick call (14 guests: over 10 s on the CI host).
  absl::Duration destroy_deadline = absl::Minutes(2);
  // FreezeSandbox: pausing every guest of a large sandbox on a busy host.
  absl::Duration freeze_deadline = absl::Seconds(30);
  // ListEvidence.
  absl::Duration list_evidence_deadline = absl::Seconds(10);
  // ReadEvidence, for one piece of at most 1 MiB.
  absl::Duration read_evidence_deadline = absl::Seconds(30);
  // CaptureSandbox: pausing the guests, copying and hashing their disks.
  absl::Duration capture_deadline = absl::Minutes(10);
  // EnsureImage, for all of an image's bytes.
  absl::Duration image_deadline = absl::Minutes(30);
  // The longest a console stays attached; after it the relay ends with DeadlineExceeded.
  absl::Duration console_deadline = absl::Hours(12);
  // Cap on gRPC's reconnect backoff, so that a restarted worker is reachable soon.
  absl::Duration max_reconnect_backoff = absl::Seconds(5);
  // How the controller meets workers (common/tls/transport_security.h); null: plain text.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
};
// A channel to a worker's LabWorker service at `address` (host:port).
std::shared_ptr<grpc::Channel> NewWorkerChannel(const std::string& address,
                                                const WorkerClientOptions& options = {});

// CreateSandbox and ResetSandbox use the deadline they are given, waiting or not.
class GrpcWorkerClient : public WorkerClient {
 public:
  // A client over a channel of its own (NewWorkerChannel).
  explicit GrpcWorkerClient(const std::string& address, WorkerClientOptions options = {});
  // A client over `channel`; `address` is for messages.
  GrpcWorkerClient(std::string address, std::shared_ptr<grpc::Channel> channel,
                   WorkerClientOptions options = {});

  absl::StatusOr<v1::Inventory> GetInventory() override;
  absl::Status EnsureImage(const v1::ImageManifest& manifest,
                           const ArtifactPathFn& path_of) override;
  absl::StatusOr<v1::SandboxStatus> CreateSandbox(const v1::SandboxSpec& spec, bool wait_ready,
                                                  absl::Duration deadline) override;
  absl::StatusOr<v1::SandboxStatus> GetSandbox(const std::string& sandbox_id) override;
  absl::StatusOr<v1::SandboxStatus> ResetSandbox(const std::string& sandbox_id,
                                                 uint64_t target_generation, bool wait_ready,
                                                 absl::Duration deadline,
                                                 const std::vector<std::string>& nodes) override;
  absl::StatusOr<bool> DestroySandbox(const std::string& sandbox_id) override;
  absl::StatusOr<v1::SandboxStatus> FreezeSandbox(const std::string& sandbox_id) override;
  absl::StatusOr<std::vector<v1::EvidenceFile>> ListEvidence(
      const std::string& sandbox_id) override;
  absl::StatusOr<std::string> ReadEvidence(const std::string& sandbox_id, const std::string& name,
                                           uint64_t offset, uint32_t max_bytes) override;
  absl::StatusOr<std::vector<v1::ImageManifest>> CaptureSandbox(
      const std::string& sandbox_id, uint64_t generation, const std::string& image_prefix) override;
  // Within read_evidence_deadline, as one piece of evidence.
  absl::StatusOr<std::string> ReadImageBlob(const std::string& sha256, uint64_t offset,
                                            uint32_t max_bytes) override;
  // Returns once `open` is sent: Unavailable when the worker cannot be reached within the
  // quick deadline. A worker's
  // refusal (NotFound for an unknown sandbox or node, InvalidArgument...) is what the
  // relay's first Read() returns.
  absl::StatusOr<std::unique_ptr<ConsoleRelay>> AttachConsole(const std::string& sandbox_id,
                                                              const std::string& node) override;

  const std::string& address() const { return address_; }

 private:
  // Names this worker in messages of transport errors (Unavailable, DeadlineExceeded);
  // the worker's own answers pass unchanged.
  absl::Status Annotate(const absl::Status& status) const;
  // OK once the channel is connected; Unavailable when it fails or the deadline passes.
  absl::Status AwaitConnected(absl::Duration deadline);

  const std::string address_;
  const WorkerClientOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::LabWorker::Stub> stub_;
};

// One client (and channel) per address, made on first use and kept.
class GrpcWorkerDirectory : public WorkerDirectory {
 public:
  explicit GrpcWorkerDirectory(WorkerClientOptions options = {}) : options_(options) {}
  std::shared_ptr<WorkerClient> ForAddress(const std::string& address) override;

 private:
  const WorkerClientOptions options_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<WorkerClient>> clients_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_WORKERS_GRPC_WORKER_CLIENT_H_
