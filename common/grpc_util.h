// Helpers at the gRPC edge of both servers: status conversion both ways, and finishing a
// callback-API unary call either at once or from a thread of its own so that slow work
// never blocks gRPC's callback threads. Thread-safe.
#ifndef LABRACK_COMMON_GRPC_UTIL_H_
#define LABRACK_COMMON_GRPC_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <functional>

#include "absl/status/status.h"

namespace labrack {

// absl::Status -> grpc::Status with the same code and message.
grpc::Status ToGrpc(const absl::Status& status);
// grpc::Status -> absl::Status with the same code and message.
absl::Status FromGrpc(const grpc::Status& status);

// Finishes the call with `status` now.
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& status);
// Runs `work` on a new thread and finishes the call with its status.
grpc::ServerUnaryReactor* RunDetached(grpc::CallbackServerContext* ctx,
                                      std::function<absl::Status()> work);

}  // namespace labrack

#endif  // LABRACK_COMMON_GRPC_UTIL_H_
