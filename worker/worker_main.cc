// labrack-worker: runs on every KVM host and builds sandboxes there with libvirt.
#include "CLI/CLI.hpp"
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
  CLI11_PARSE(app, argc, argv);
  return labrack::worker::RunWorker(options);
}
