// The channel is insecure: labrack-controller listens on loopback or a private exam network
// (see docs). UNAVAILABLE is attributed to the controller only when the channel never got
// a connection, so that a worker outage reported by the controller reads as such.
#include "cli/controller_client.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace labrack::cli {

ControllerClient::ControllerClient(std::string address, absl::Duration rpc_timeout)
    : address_(std::move(address)),
      rpc_timeout_(rpc_timeout),
      channel_(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials())),
      stub_(v1::LabController::NewStub(channel_)) {}

void ControllerClient::SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) const {
  if (timeout <= absl::ZeroDuration()) timeout = rpc_timeout_;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

absl::Status ControllerClient::ToStatus(const grpc::Status& status) const {
  absl::StatusCode code = static_cast<absl::StatusCode>(status.error_code());
  if (status.ok()) return absl::OkStatus();
  bool connected = channel_->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY;
  if (code == absl::StatusCode::kUnavailable && !connected) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach labrack-controller at ", address_, ": ", status.error_message(),
                     " (is it running? point --server or LABRACK_SERVER at it)"));
  }
  return absl::Status(code, status.error_message());
}

}  // namespace labrack::cli
