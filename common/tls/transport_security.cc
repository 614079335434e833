#include "common/tls/transport_security.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "spdlog/spdlog.h"

namespace labrack {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path,
                                    const std::string& kind) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  if (!absl::StrContains(text.str(), absl::StrCat("-----BEGIN ", kind))) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", path, " holds no PEM ", absl::AsciiStrToLower(kind)));
  }
  return text.str();
}

class PeerNameCheck : public grpc::AuthMetadataProcessor {
 public:
  explicit PeerNameCheck(std::string name) : name_(std::move(name)) {}
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata&, grpc::AuthContext* context, OutputMetadata*,
                       OutputMetadata*) override {
    std::string peer = VerifiedPeerName(*context);
    if (peer == name_) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat("only ", name_, " may call this server; the caller's "
                                     "certificate is ",
                                     peer.empty() ? "missing" : "named " + peer));
  }

 private:
  const std::string name_;
};

}  // namespace

absl::StatusOr<std::optional<TlsMaterial>> LoadTls(const TlsOptions& options, bool need_cert) {
  if (!options.enabled()) return std::nullopt;
  if (options.ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-ca: required with --tls-cert or --tls-key (the deployment's CA certificate)");
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.cert_file.empty() ? "--tls-cert" : "--tls-key",
        ": --tls-cert and --tls-key go together (a certificate and its private key)"));
  }
  if (need_cert && options.cert_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert: required with --tls-ca (this daemon's certificate, signed by the CA)");
  }
  TlsMaterial m;
  auto ca = ReadPem("--tls-ca", options.ca_file, "CERTIFICATE");
  if (!ca.ok()) return ca.status();
  m.ca = *std::move(ca);
  if (!options.cert_file.empty()) {
    auto cert = ReadPem("--tls-cert", options.cert_file, "CERTIFICATE");
    if (!cert.ok()) return cert.status();
    auto key = ReadPem("--tls-key", options.key_file, "");
    if (!key.ok()) return key.status();
    if (!absl::StrContains(*key, "PRIVATE KEY-----")) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls-key: ", options.key_file, " holds no PEM private key"));
    }
    m.cert = *std::move(cert);
    m.key = *std::move(key);
  }
  return m;
}

bool IsLoopbackAddress(const std::string& host_port) {
  absl::string_view host = host_port;
  if (absl::ConsumePrefix(&host, "[")) {
    host = host.substr(0, host.find(']'));
  } else if (size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host == "localhost" || host == "::1") return true;
  if (!absl::StartsWith(host, "127.")) return false;
  for (char c : host) {
    if (!absl::ascii_isdigit(c) && c != '.') return false;  // 127.example.com is a name
  }
  return true;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const std::optional<TlsMaterial>& tls, ClientCerts client_certs, const std::string& listen,
    bool insecure) {
  if (!tls.has_value()) {
    if (IsLoopbackAddress(listen)) return grpc::InsecureServerCredentials();
    if (!insecure) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--listen: ", listen, " is not a loopback address, so plain text is refused: give "
          "--tls-ca, --tls-cert and --tls-key (deploy/tls.sh makes them), or --insecure to "
          "serve plain text anyway"));
    }
    spdlog::warn("serving plain text on {} (--insecure): anyone on the network can read and "
                 "send this server's calls",
                 listen);
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions options(
      client_certs == ClientCerts::kRequired
          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
          : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls->ca;
  options.pem_key_cert_pairs.push_back({tls->key, tls->cert});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const std::optional<TlsMaterial>& tls) {
  if (!tls.has_value()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls->ca;
  options.pem_private_key = tls->key;
  options.pem_cert_chain = tls->cert;
  return grpc::SslCredentials(options);
}

std::string VerifiedPeerName(const grpc::AuthContext& context) {
  if (!context.IsPeerAuthenticated()) return "";
  std::vector<grpc::string_ref> names = context.FindPropertyValues("x509_common_name");
  if (names.empty()) return "";
  return std::string(names.front().data(), names.front().size());
}

std::shared_ptr<grpc::AuthMetadataProcessor> RequirePeerName(std::string name) {
  return std::make_shared<PeerNameCheck>(std::move(name));
}

}  // namespace labrack
