// labrack-controller: the one server people and workers talk to. With --all-in-one it also
// runs a worker on this machine's libvirt.
#include "CLI/CLI.hpp"
#include "common/tls/tls_flags.h"
#include "controller/controller_server.h"

namespace {

// Adds a duration flag given in whole seconds.
void AddSeconds(CLI::App& app, const std::string& name, absl::Duration* d, const std::string& help) {
  app.add_option_function<double>(
         name, [d](double s) { *d = absl::Seconds(s); }, help)
      ->check(CLI::PositiveNumber)
      ->default_str(std::to_string(absl::ToDoubleSeconds(*d)));
}

}  // namespace

int main(int argc, char** argv) {
  labrack::controller::ControllerOptions options;
  labrack::controller::ControllerConfig& config = options.config;
  std::string strategy = "spread";
  CLI::App app{"labrack-controller: schedules and tracks lab sandboxes on worker hosts"};
  app.add_option("--listen", options.listen, "gRPC address to serve on (host:port)")
      ->capture_default_str();
  app.add_option("--state-dir", options.state_dir, "folder for the database and images")
      ->required();
  app.add_option("--evidence-dir", config.evidence_dir,
                 "where sessions keep their evidence (default: <state-dir>/evidence)");
  app.add_option("--port-file", options.port_file,
                 "write the bound port to this file once listening (for --listen ...:0)");
  app.add_flag("--all-in-one", options.all_in_one,
               "also run a worker on this machine's libvirt (state in <state-dir>/worker)");
  app.add_option("--libvirt-uri", options.worker.libvirt_uri, "all-in-one: libvirt URI")
      ->capture_default_str();
  app.add_option("--host-id", options.worker.host_id,
                 "all-in-one: the worker's host id (default: from the host name)");
  app.add_option("--domain-type", options.worker.domain_type, "all-in-one: auto, kvm or qemu")
      ->check(CLI::IsMember({"auto", "kvm", "qemu"}))
      ->capture_default_str();
  app.add_option("--boot-slots", options.worker.boot_slots,
                 "all-in-one: guests that may boot at once (default: from the CPUs)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--template-dir", options.worker.template_dir,
                 "all-in-one: folder for node templates (memory states restored instead of booting); "
                 "empty: none. Experimental: restored guests keep the template's clock");
  app.add_option("--template-budget", options.worker.template_budget_mib,
                 "all-in-one: the most MiB the templates may take; 0: no limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--strategy", strategy, "placement: spread or pack")
      ->check(CLI::IsMember({"spread", "pack"}))
      ->capture_default_str();
  app.add_option("--cpu-overcommit", config.policy.cpu_overcommit, "vCPUs offered per host CPU")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--trainer-max-sandboxes", config.trainer_max_sandboxes,
                 "the most live sandboxes one trainer token's name may own (0: no quota)")
      ->capture_default_str();
  app.add_option("--max-image-bytes", config.max_image_bytes,
                 "the most bytes one image import may bring (0: no limit)")
      ->capture_default_str();
  app.add_option("--memory-overcommit", config.policy.memory_overcommit,
                 "memory offered per MiB of host memory")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  AddSeconds(app, "--host-timeout", &config.host_timeout,
             "seconds without a heartbeat before a host's sandboxes are LOST");
  AddSeconds(app, "--heartbeat-interval", &config.heartbeat_interval,
             "seconds between a worker's heartbeats");
  AddSeconds(app, "--ready-timeout", &config.ready_timeout,
             "seconds a sandbox may take to become ready before it FAILS");
  labrack::AddDaemonTlsFlags(app, &options.tls);
  CLI11_PARSE(app, argc, argv);
  config.policy.strategy =
      strategy == "pack" ? labrack::controller::Strategy::kPack : labrack::controller::Strategy::kSpread;
  options.worker.ready_timeout = config.ready_timeout;
  return labrack::controller::RunController(std::move(options));
}
