// Builds labrackctl's command tree with CLI11, catches CLI11's exceptions at the parse call
// (our code uses none), runs the chosen command and turns its status into "error: ..." on
// stderr and an exit code. Global flags fall through from subcommands, so `-o json` and
// `--server` work before or after the subcommand.
#include "cli/cli.h"

#include <unistd.h>

#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/error_hints.h"
#include "cli/exit_codes.h"
#include "cli/flags.h"
#include "cli/access_commands.h"
#include "cli/host_commands.h"
#include "cli/image_commands.h"
#include "cli/pool_commands.h"
#include "cli/sandbox_commands.h"
#include "cli/session_commands.h"
#include "cli/topology_commands.h"

namespace labrack::cli {
namespace {

constexpr char kDescription[] =
    "labrackctl: drives labrack-controller (hosts, images, topologies, per-candidate lab "
    "sandboxes, warm pools and exam sessions).";

constexpr char kGlobalOptionsHelp[] =
    "The global options --server, -o/--output, --rpc-timeout, --tls-ca and --token work here "
    "too; see "
    "labrackctl --help for them and for exit codes.";

constexpr char kEnvironmentHelp[] =
    "Environment:\n"
    "  LABRACK_SERVER  controller address used when --server is not given\n"
    "                  (default 127.0.0.1:7443)\n"
    "  LABRACK_TLS_CA  the deployment's CA certificate, used when --tls-ca is not given\n"
    "  LABRACK_TOKEN   the access token, used when --token is not given; without either,\n"
    "                  $XDG_CONFIG_HOME/labrack/token (default ~/.config/labrack/token)\n";

void AddGlobalOptions(CLI::App& app, GlobalOptions& global) {
  app.add_option("--server", global.server,
                 "labrack-controller address host:port (default: $LABRACK_SERVER, else "
                 "127.0.0.1:7443)")
      ->envname(kServerEnv);
  app.add_option("-o,--output", global.output,
                 "output format: table, or json (the proto JSON mapping of the response)")
      ->check(CLI::IsMember({"table", "json"}));
  AddDurationOption(app, "--rpc-timeout", &global.rpc_timeout,
                    "deadline of each single request to the controller");
  app.add_option("--tls-ca", global.tls_ca,
                 "the deployment's CA certificate (PEM): talk TLS to the controller and trust "
                 "it only with a certificate this CA signed (default: $LABRACK_TLS_CA; none: "
                 "plain text)")
      ->envname(kTlsCaEnv)
      ->check(CLI::ExistingFile);
  app.add_option("--token", global.token,
                 "access token (default: $LABRACK_TOKEN, else the file "
                 "$XDG_CONFIG_HOME/labrack/token or ~/.config/labrack/token)")
      ->envname(kTokenEnv);
}

void BuildApp(CLI::App& app, CommandContext& ctx) {
  // fallthrough and footer are inherited by every subcommand added below.
  app.fallthrough();
  app.footer(kGlobalOptionsHelp);
  app.require_subcommand(1);
  AddGlobalOptions(app, ctx.global());
  AddHostCommands(app, ctx);
  AddImageCommands(app, ctx);
  AddTopologyCommands(app, ctx);
  AddSandboxCommands(app, ctx);
  AddPoolCommands(app, ctx);
  AddSessionCommands(app, ctx);
  AddAccessCommands(app, ctx);
  app.footer(std::string(kEnvironmentHelp) + "\n" + kExitCodesHelp);
}

int ReportParseError(const CLI::App& app, const CLI::ParseError& e, const Io& io) {
  if (e.get_exit_code() == 0) return app.exit(e, io.out, io.err);  // --help
  io.err << "error: " << e.what() << "\nRun with --help for more information.\n";
  return kExitUsage;
}

}  // namespace

int RunCli(int argc, const char* const* argv, const Io& io) {
  CommandContext ctx(io);
  CLI::App app(kDescription, "labrackctl");
  try {
    BuildApp(app, ctx);
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return ReportParseError(app, e, io);
  } catch (const CLI::Error& e) {
    io.err << "error: " << e.what() << "\n";
    return kExitError;
  }
  if (!ctx.action()) {
    io.err << "error: no command given\nRun with --help for more information.\n";
    return kExitUsage;
  }
  absl::Status status = ctx.action()();
  io.out << std::flush;
  if (!status.ok()) {
    io.err << "error: " << status.message() << "\n";
    if (std::string hint = HintFor(status); !hint.empty()) io.err << "hint: " << hint << "\n";
    io.err << std::flush;
  }
  return ExitCodeFor(status);
}

int RunCli(int argc, const char* const* argv, std::istream& in, std::ostream& out,
           std::ostream& err) {
  return RunCli(argc, argv, Io{in, out, err});
}

int RunCliOnProcessStreams(int argc, const char* const* argv) {
  Io io{std::cin, std::cout, std::cerr};
  io.stdin_is_tty = isatty(STDIN_FILENO) == 1;
  io.stderr_is_tty = isatty(STDERR_FILENO) == 1;
  io.stdin_fd = STDIN_FILENO;
  return RunCli(argc, argv, io);
}

}  // namespace labrack::cli
