// A ConsoleRelay over LabWorker.AttachConsole with gRPC's synchronous stream API: the
// controller reads it from a thread of its own. One reader and one writer may run at once;
// Close() may be called from any thread and wakes a blocked Read() by cancelling the call.
#ifndef LABRACK_CONTROLLER_WORKERS_GRPC_CONSOLE_RELAY_H_
#define LABRACK_CONTROLLER_WORKERS_GRPC_CONSOLE_RELAY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/workers/worker_client.h"
#include "labrack/v1/worker.grpc.pb.h"

namespace labrack::controller {

// Starts the call, sends `open` and waits for the worker's first answer, which says that
// the console is open. Unavailable when the call fails at once (the worker is unreachable);
// the worker's refusal (e.g. NotFound for an unknown node) as it is. The call, and so the
// relay, lasts at most `deadline`. `address` only goes into messages.
absl::StatusOr<std::unique_ptr<ConsoleRelay>> OpenGrpcConsoleRelay(
    v1::LabWorker::StubInterface& stub, const std::string& address, const v1::ConsoleOpen& open,
    absl::Duration deadline);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_WORKERS_GRPC_CONSOLE_RELAY_H_
