// The gRPC edge of access control (controller/access): a call's token from its metadata,
// admission before any work, and the audit record of its result. Streams that are refused
// get a reactor that only finishes them. Thread-safe.
#ifndef LABRACK_CONTROLLER_SERVICE_CALL_GATE_H_
#define LABRACK_CONTROLLER_SERVICE_CALL_GATE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/grpc_util.h"
#include "controller/access/access_control.h"

namespace labrack::controller {

// The "authorization" metadata of the call; nullopt when absent.
std::optional<absl::string_view> AuthorizationOf(const grpc::CallbackServerContext& ctx);

// Admits the call of `method` on `target` (see AccessControl::Admit).
absl::StatusOr<Caller> AdmitCall(AccessControl& access, const grpc::CallbackServerContext& ctx,
                                 absl::string_view method, const std::string& target);

enum class Run {
  // On the callback thread: quick store reads only.
  kNow,
  // On a thread of its own: anything that may wait on a worker or the disk.
  kDetached,
};

// What a unary handler does once admitted. It may set `target` to what it made (a new
// sandbox's id) for the audit record.
using UnaryWork = std::function<absl::Status(const Caller& caller, std::string& target)>;

// Admits the call, runs `work`, records the result when the rule is audited, and
// finishes the call with `work`'s status (or the refusal).
grpc::ServerUnaryReactor* ServeUnary(AccessControl& access, grpc::CallbackServerContext* ctx,
                                     absl::string_view method, std::string target, Run run,
                                     UnaryWork work);

// A write reactor that finishes at once with `status`.
template <typename T>
class RefusedWriter : public grpc::ServerWriteReactor<T> {
 public:
  explicit RefusedWriter(const absl::Status& status) { this->Finish(ToGrpc(status)); }
  void OnDone() override { delete this; }
};

// A read reactor that finishes at once with `status`.
template <typename T>
class RefusedReader : public grpc::ServerReadReactor<T> {
 public:
  explicit RefusedReader(const absl::Status& status) { this->Finish(ToGrpc(status)); }
  void OnDone() override { delete this; }
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_SERVICE_CALL_GATE_H_
