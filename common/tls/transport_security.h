// How labrack's processes secure their gRPC connections. With TLS every daemon holds a
// certificate signed by the deployment's CA (deploy/tls.sh makes a CA and certificates):
// the controller's is named labrack-controller, each worker's is named by its host id.
// Workers accept calls only from the controller's certificate; the controller verifies a
// worker's certificate and its name against the host id it registers as; clients need
// only the CA to verify the controller. Without TLS, connections are plain text, which a
// server allows only on a loopback address unless told --insecure. Thread-safe.
#ifndef LABRACK_COMMON_TLS_TRANSPORT_SECURITY_H_
#define LABRACK_COMMON_TLS_TRANSPORT_SECURITY_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_metadata_processor.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace labrack {

// The name in the controller's certificate, which workers require of their callers.
inline constexpr char kControllerCertName[] = "labrack-controller";

struct TlsOptions {
  std::string ca_file;    // --tls-ca: the deployment's CA certificate (PEM)
  std::string cert_file;  // --tls-cert: this process's certificate (PEM), signed by the CA
  std::string key_file;   // --tls-key: its private key (PEM)
  // --insecure: serve plain text on a non-loopback address anyway, with a warning.
  bool insecure = false;

  bool enabled() const { return !ca_file.empty() || !cert_file.empty() || !key_file.empty(); }
};

// The PEM texts of TlsOptions' files.
struct TlsMaterial {
  std::string ca;
  std::string cert;  // empty for a client without a certificate
  std::string key;
};

// Nothing when TLS is not asked for. InvalidArgument naming the flag when a file cannot be
// read or is not PEM, or when a flag is missing: --tls-ca always; --tls-cert and
// --tls-key together, and always when `need_cert` (a daemon).
absl::StatusOr<std::optional<TlsMaterial>> LoadTls(const TlsOptions& options, bool need_cert);

// Whether the host of `host_port` is a loopback address (127.0.0.0/8, ::1, localhost).
bool IsLoopbackAddress(const std::string& host_port);

enum class ClientCerts {
  kVerifyIfPresented,  // clients may come without one; one presented must verify
  kRequired,           // every client presents one the CA signed
};

// Credentials to serve `listen` with: TLS when `tls` is set, else plain text if `listen`
// is a loopback address or `insecure` (logged as a warning), else InvalidArgument naming
// --listen and what to do.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const std::optional<TlsMaterial>& tls, ClientCerts client_certs, const std::string& listen,
    bool insecure);

// Credentials to call a server with: TLS trusting the CA and presenting our certificate
// (if any) when `tls` is set, else plain text.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const std::optional<TlsMaterial>& tls);

// The common name of the certificate the peer presented and the CA verified; empty when it
// presented none (or the connection is plain text).
std::string VerifiedPeerName(const grpc::AuthContext& context);

// Refuses, with PERMISSION_DENIED, every call whose peer's verified certificate is not
// named `name` (a worker's server: only the controller may call).
std::shared_ptr<grpc::AuthMetadataProcessor> RequirePeerName(std::string name);

}  // namespace labrack

#endif  // LABRACK_COMMON_TLS_TRANSPORT_SECURITY_H_
