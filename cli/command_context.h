// What labrackctl's commands share during one run: the streams, the global flags, the
// controller connection (made on first use) and the action the parsed command line chose.
// Not thread-safe: one per RunCli call, used from the calling thread.
#ifndef LABRACK_CLI_COMMAND_CONTEXT_H_
#define LABRACK_CLI_COMMAND_CONTEXT_H_

#include <functional>
#include <istream>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cli/controller_client.h"
#include "cli/token_source.h"

namespace labrack::cli {

// The process's streams, or string streams in tests.
struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  // Terminals get redrawn progress lines and a raw-mode console.
  bool stdin_is_tty = false;
  bool stderr_is_tty = false;
  // When >= 0, the console reads keystrokes from this descriptor (so that it can wait with
  // a timeout) instead of from `in`.
  int stdin_fd = -1;
};

inline constexpr char kDefaultServer[] = "127.0.0.1:7443";
inline constexpr char kServerEnv[] = "LABRACK_SERVER";
inline constexpr char kTlsCaEnv[] = "LABRACK_TLS_CA";
inline constexpr char kTokenEnv[] = "LABRACK_TOKEN";

struct GlobalOptions {
  std::string server = kDefaultServer;  // --server, else $LABRACK_SERVER, else the default
  std::string output = "table";         // -o table|json
  absl::Duration rpc_timeout = absl::Seconds(30);
  std::string tls_ca;  // --tls-ca, else $LABRACK_TLS_CA: TLS verifying the controller by it
  std::string token;   // --token, else $LABRACK_TOKEN, else the token file (token_source.h)

  bool json() const { return output == "json"; }
};

class CommandContext {
 public:
  explicit CommandContext(Io io) : io_(io) {}

  Io& io() { return io_; }
  GlobalOptions& global() { return global_; }
  // The connection to global().server, made on first use (after flags are parsed).
  ControllerClient& client() {
    if (!client_) {
      client_ = std::make_unique<ControllerClient>(global_.server, global_.rpc_timeout,
                                                   global_.tls_ca, ResolveToken(global_.token));
    }
    return *client_;
  }

  // The parsed command sets what it will do; RunCli runs it once parsing succeeded.
  void SetAction(std::function<absl::Status()> action) { action_ = std::move(action); }
  const std::function<absl::Status()>& action() const { return action_; }

 private:
  Io io_;
  GlobalOptions global_;
  std::unique_ptr<ControllerClient> client_;
  std::function<absl::Status()> action_;
};

}  // namespace labrack::cli

#endif  // LABRACK_CLI_COMMAND_CONTEXT_H_
