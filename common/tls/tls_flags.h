// The TLS flags of labrack's daemons, the same on each (see transport_security.h).
#ifndef LABRACK_COMMON_TLS_TLS_FLAGS_H_
#define LABRACK_COMMON_TLS_TLS_FLAGS_H_

#include "CLI/CLI.hpp"
#include "common/tls/transport_security.h"

namespace labrack {

inline void AddDaemonTlsFlags(CLI::App& app, TlsOptions* tls) {
  app.add_option("--tls-ca", tls->ca_file,
                 "the deployment's CA certificate (PEM): peers must present certificates it "
                 "signed (deploy/tls.sh makes one)");
  app.add_option("--tls-cert", tls->cert_file, "this daemon's certificate (PEM), signed by the CA");
  app.add_option("--tls-key", tls->key_file, "the certificate's private key (PEM)");
  app.add_flag("--insecure", tls->insecure,
               "without TLS, serve plain text on a --listen address that is not loopback "
               "(refused otherwise)");
}

}  // namespace labrack

#endif  // LABRACK_COMMON_TLS_TLS_FLAGS_H_
