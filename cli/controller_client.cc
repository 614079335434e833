// The channel is TLS when labrackctl is given the deployment's CA, else plain text (which
// labrack-controller serves on loopback only, unless told --insecure). UNAVAILABLE is attributed to the controller only when the channel never got
// a connection, so that a worker outage reported by the controller reads as such.
#include "cli/controller_client.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/bearer_channel.h"

namespace labrack::cli {

namespace {

// An unreadable CA file leaves the PEM empty, and every call then fails its handshake;
// --tls-ca is checked to exist when parsed.
std::shared_ptr<grpc::ChannelCredentials> Credentials(const std::string& tls_ca) {
  if (tls_ca.empty()) return grpc::InsecureChannelCredentials();
  std::ifstream in(tls_ca);
  std::stringstream pem;
  pem << in.rdbuf();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = pem.str();
  return grpc::SslCredentials(options);
}

}  // namespace

ControllerClient::ControllerClient(std::string address, absl::Duration rpc_timeout,
                                   const std::string& tls_ca, const std::string& token)
    : address_(std::move(address)),
      rpc_timeout_(rpc_timeout),
      channel_(CreateBearerChannel(address_, Credentials(tls_ca), token)),
      stub_(v1::LabController::NewStub(channel_)),
      access_stub_(v1::LabAccess::NewStub(channel_)) {}

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
