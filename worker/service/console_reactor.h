// LabWorker.AttachConsole: relays one node's serial console over a bidi stream. The first
// message opens the console; later ones carry keystrokes. A thread per call reads the guest
// and writes to the client; another writes keystrokes to the guest, so gRPC's callback
// threads never block. ConsoleRegistry is thread-safe; reactors belong to gRPC.
#ifndef LABRACK_WORKER_SERVICE_CONSOLE_REACTOR_H_
#define LABRACK_WORKER_SERVICE_CONSOLE_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "labrack/v1/worker.pb.h"
#include "worker/hypervisor/hypervisor.h"
#include "worker/sandbox/sandbox_manager.h"

namespace labrack::worker {

// The consoles open on this worker, so that a shutdown ends their calls at once instead of
// waiting for their clients.
class ConsoleRegistry {
 public:
  // Keeps `console` until Remove(). Unavailable (and `console` closed) after CloseAll().
  absl::Status Add(std::shared_ptr<ConsoleStream> console);
  void Remove(const ConsoleStream* console);
  // Closes every open console, which ends its call, and refuses new ones.
  void CloseAll();

 private:
  absl::Mutex mu_;
  std::map<const ConsoleStream*, std::shared_ptr<ConsoleStream>> open_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// Serves one AttachConsole call and deletes itself when it is done. The call ends with
// InvalidArgument when the first message is not `open` or names a malformed id or node;
// NotFound for a sandbox or node this worker does not know; the hypervisor's status when
// the console cannot be opened (e.g. FailedPrecondition: the domain is not running); OK
// when the guest's console, the client's input (half-close) or the worker ends.
grpc::ServerBidiReactor<v1::ConsoleInput, v1::ConsoleOutput>* NewConsoleReactor(
    SandboxManager* sandboxes, Hypervisor* hypervisor, ConsoleRegistry* registry);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SERVICE_CONSOLE_REACTOR_H_
