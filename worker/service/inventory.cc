#include "worker/service/inventory.h"

#include <sys/statvfs.h>

namespace labrack::worker {
namespace {

uint64_t FreeDiskMib(const std::string& dir) {
  struct statvfs st;
  if (statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize >> 20;
}

}  // namespace

absl::StatusOr<v1::Inventory> BuildInventory(Hypervisor& hypervisor, SandboxManager& sandboxes,
                                             ImageCache& images) {
  absl::StatusOr<HostResources> host = hypervisor.GetHostResources();
  if (!host.ok()) return host.status();
  const WorkerConfig& config = sandboxes.config();
  v1::Inventory inv;
  inv.set_host_id(config.host_id);
  inv.mutable_total()->set_vcpus(host->cpus);
  inv.mutable_total()->set_memory_mib(host->memory_mib);
  inv.mutable_total()->set_disk_mib(FreeDiskMib(config.state_dir));
  *inv.mutable_allocated() = sandboxes.Allocated();
  for (const v1::ImageManifest& m : images.List()) *inv.add_images() = m;
  sandboxes.AdoptStrays();
  for (const v1::SandboxStatus& s : sandboxes.ListSandboxes()) *inv.add_sandboxes() = s;
  inv.set_domain_type(DomainTypeName(config.domain_type->type()));
  inv.set_domain_type_reason(config.domain_type->reason());
  // Latency and loss can be set on this host's side of a link (else a guest emulates them).
  if (config.host_has_netem) inv.add_capabilities("netem");
  return inv;
}

}  // namespace labrack::worker
