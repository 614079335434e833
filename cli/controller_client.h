// labrackctl's connection to LabController: one channel, a deadline on every call, and
// gRPC statuses turned into absl::Status with a clear message when the controller itself
// cannot be reached. Thread-safe (gRPC stubs are); one per labrackctl run.
#ifndef LABRACK_CLI_CONTROLLER_CLIENT_H_
#define LABRACK_CLI_CONTROLLER_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labrack/v1/access.grpc.pb.h"
#include "labrack/v1/controller.grpc.pb.h"

namespace labrack::cli {

class ControllerClient {
 public:
  // Makes the channel but does not connect: the first call does. With `tls_ca` (a PEM file)
  // the channel is TLS and the controller's certificate must be signed by that CA; without
  // it, plain text. Every call carries `token` ("authorization: Bearer <token>") when it
  // is not empty.
  ControllerClient(std::string address, absl::Duration rpc_timeout, const std::string& tls_ca = "",
                   const std::string& token = "");

  const std::string& address() const { return address_; }
  v1::LabController::Stub& stub() { return *stub_; }
  v1::LabAccess::Stub& access_stub() { return *access_stub_; }

  // Sets the deadline of one call: `timeout` from now, or the unary RPC timeout when zero.
  void SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout = absl::ZeroDuration()) const;

  // `status` as absl::Status with the same code and the server's message. UNAVAILABLE while
  // the channel has no connection becomes "cannot reach labrack-controller at ADDR: ..."
  // with a hint about --server; UNAVAILABLE from a connected controller (e.g. a worker it
  // cannot reach) keeps the controller's message.
  absl::Status ToStatus(const grpc::Status& status) const;

  // One unary call with the RPC timeout (or `timeout` when not zero):
  // client.Call(&v1::LabController::Stub::GetSandbox, request), and the same for LabAccess.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                             Response*),
                                const Request& request,
                                absl::Duration timeout = absl::ZeroDuration()) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, timeout);
    Response response;
    Stub* stub;
    if constexpr (std::is_same_v<Stub, v1::LabAccess::Stub>) {
      stub = access_stub_.get();
    } else {
      stub = stub_.get();
    }
    grpc::Status status = (stub->*method)(&ctx, request, &response);
    if (!status.ok()) return ToStatus(status);
    return response;
  }

 private:
  std::string address_;
  absl::Duration rpc_timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::LabController::Stub> stub_;
  std::unique_ptr<v1::LabAccess::Stub> access_stub_;
};

}  // namespace labrack::cli

#endif  // LABRACK_CLI_CONTROLLER_CLIENT_H_
