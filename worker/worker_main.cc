// labrack-worker: runs on every KVM host and builds sandboxes there with libvirt.
#include "CLI/CLI.hpp"
#include "common/tls/tls_flags.h"
#include "worker/worker_server.h"

int main(int argc, char** argv) {
  labrack::worker::WorkerOptions options;
  CLI::App app{"labrack-worker: builds lab sandboxes on this host with libvirt"};
  app.add_option("--listen", options.listen, "gRPC address to serve on (host:port)");
  app.add_option("--libvirt-uri", options.libvirt_uri, "libvirt connection URI");
  app.add_option("--state-dir", options.state_dir, "folder for images, volumes and logs")
      ->required();
  app.add_option("--host-id", options.host_id, "this host's id (default: from the host name)");
  app.add_option("--domain-type", options.domain_type, "auto, kvm or qemu")
      ->check(CLI::IsMember({"auto", "kvm", "qemu"}));
  app.add_option("--boot-slots", options.boot_slots,
                 "guests that may boot at once (default: 3 per CPU under emulation, 8 with KVM)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--template-dir", options.template_dir,
                 "folder for node templates (memory states restored instead of booting); "
                 "empty: none. Experimental: restored guests keep the template's clock");
  app.add_option("--template-budget", options.template_budget_mib,
                 "the most MiB the templates may take; 0: no limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--controller", options.controller,
                 "controller address (host:port) to register with; empty: run unregistered");
  app.add_option("--advertise", options.advertise,
                 "host:port where the controller reaches this worker (default: 127.0.0.1 and "
                 "the bound port when --listen is a loopback or any address, which suits one "
                 "machine only; else the --listen host and the bound port)");
  labrack::AddDaemonTlsFlags(app, &options.tls);
  CLI11_PARSE(app, argc, argv);
  return labrack::worker::RunWorker(options);
}
