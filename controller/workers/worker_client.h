// How the controller reaches a worker. GrpcWorkerClient is the real one (LabWorker over a
// channel); tests may put a ForwardingWorkerClient-style wrapper around it to inject
// faults. Every call has a deadline and returns Unavailable / DeadlineExceeded when the
// worker cannot be reached, so the caller retries later. Thread-safe.
#ifndef LABRACK_CONTROLLER_WORKERS_WORKER_CLIENT_H_
#define LABRACK_CONTROLLER_WORKERS_WORKER_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labrack/v1/types.pb.h"
#include "labrack/v1/worker.pb.h"

namespace labrack::controller {

// An open console relayed from a worker. Read() blocks until bytes arrive; empty at the
// end. Close() may be called from any thread and wakes a blocked Read().
class ConsoleRelay {
 public:
  virtual ~ConsoleRelay() = default;
  virtual absl::Status Write(const std::string& data) = 0;
  virtual absl::StatusOr<std::string> Read() = 0;
  virtual void Close() = 0;
};

// Where the bytes of an image's artifact are: a path for the artifact's sha256.
using ArtifactPathFn = std::function<std::string(const v1::ImageArtifact& artifact)>;

class WorkerClient {
 public:
  virtual ~WorkerClient() = default;

  virtual absl::StatusOr<v1::Inventory> GetInventory() = 0;
  // Streams an image's artifacts in chunks; the worker verifies each sha256 (DataLoss).
  virtual absl::Status EnsureImage(const v1::ImageManifest& manifest,
                                   const ArtifactPathFn& path_of) = 0;
  // The worker's contract (worker.proto): idempotent by id and generation.
  virtual absl::StatusOr<v1::SandboxStatus> CreateSandbox(const v1::SandboxSpec& spec,
                                                          bool wait_ready,
                                                          absl::Duration deadline) = 0;
  virtual absl::StatusOr<v1::SandboxStatus> GetSandbox(const std::string& sandbox_id) = 0;
  // `nodes`: those to reset, the others keep their disks; empty: every node.
  virtual absl::StatusOr<v1::SandboxStatus> ResetSandbox(const std::string& sandbox_id,
                                                         uint64_t target_generation,
                                                         bool wait_ready,
                                                         absl::Duration deadline,
                                                         const std::vector<std::string>& nodes) = 0;
  // Returns whether anything existed.
  virtual absl::StatusOr<bool> DestroySandbox(const std::string& sandbox_id) = 0;
  // Pauses every guest of the sandbox (worker.proto FreezeSandbox).
  virtual absl::StatusOr<v1::SandboxStatus> FreezeSandbox(const std::string& sandbox_id) = 0;
  // The evidence files of a frozen sandbox.
  virtual absl::StatusOr<std::vector<v1::EvidenceFile>> ListEvidence(
      const std::string& sandbox_id) = 0;
  // At most `max_bytes` of one evidence file from `offset`; empty at its end.
  virtual absl::StatusOr<std::string> ReadEvidence(const std::string& sandbox_id,
                                                   const std::string& name, uint64_t offset,
                                                   uint32_t max_bytes) = 0;
  // Makes each node's current disk of a READY sandbox an image <image_prefix>-<node> in the
  // worker's cache (worker.proto CaptureSandbox); one manifest per node.
  virtual absl::StatusOr<std::vector<v1::ImageManifest>> CaptureSandbox(
      const std::string& sandbox_id, uint64_t generation, const std::string& image_prefix) = 0;
  // At most `max_bytes` of the worker's image blob `sha256` from `offset`; empty at its end.
  virtual absl::StatusOr<std::string> ReadImageBlob(const std::string& sha256, uint64_t offset,
                                                    uint32_t max_bytes) = 0;
  virtual absl::StatusOr<std::unique_ptr<ConsoleRelay>> AttachConsole(
      const std::string& sandbox_id, const std::string& node) = 0;
};

// Whether a failed call to a worker is worth repeating later as it is.
inline bool IsRetryable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsCancelled(status);
}

// Gives the client for a host's address; clients are cached per address.
class WorkerDirectory {
 public:
  virtual ~WorkerDirectory() = default;
  virtual std::shared_ptr<WorkerClient> ForAddress(const std::string& address) = 0;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_WORKERS_WORKER_CLIENT_H_
