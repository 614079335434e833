// One LabController.WatchEvents stream over every sandbox, read on a thread of its own. It
// notes when each sandbox-phase event arrived, so that callers wait for a phase without
// polling the controller. Thread-safe.
#ifndef LABRACK_BENCH_EVENT_WATCHER_H_
#define LABRACK_BENCH_EVENT_WATCHER_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "labrack/v1/controller.grpc.pb.h"

namespace labrack::bench {

class EventWatcher {
 public:
  // Opens the stream (replaying past events first) and starts reading it.
  explicit EventWatcher(v1::LabController::Stub& stub);
  // Cancels the stream and waits for the reader.
  ~EventWatcher();

  // When the event saying that sandbox `id` entered `phase` arrived. Waits for it until
  // `deadline`: DeadlineExceeded then; FailedPrecondition with the controller's message
  // when the sandbox FAILED instead; Unavailable when the stream ended; Cancelled when the
  // run is interrupted.
  absl::StatusOr<absl::Time> WaitForPhase(const std::string& id, v1::SandboxPhase phase,
                                          absl::Time deadline);
  // The same without waiting: nullopt while it has not arrived.
  std::optional<absl::Time> Arrived(const std::string& id, v1::SandboxPhase phase);
  // The message of the sandbox's FAILED event, if one arrived.
  std::optional<std::string> Failure(const std::string& id);
  // How many events of this kind arrived (e.g. EVENT_KIND_HOST_UNREACHABLE).
  int Count(v1::EventKind kind);

 private:
  void Read();

  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader_;
  absl::Mutex mu_;
  std::map<std::pair<std::string, int>, absl::Time> arrived_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> failed_ ABSL_GUARDED_BY(mu_);
  std::map<int, int> counts_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace labrack::bench

#endif  // LABRACK_BENCH_EVENT_WATCHER_H_
