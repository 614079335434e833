// What this host has and holds, as the controller sees it: capacity, cached images,
// sandboxes present. Shared by LabWorker.GetInventory and the heartbeats to the controller.
// Thread-safe (it only calls thread-safe objects).
#ifndef LABRACK_WORKER_SERVICE_INVENTORY_H_
#define LABRACK_WORKER_SERVICE_INVENTORY_H_

#include "absl/status/statusor.h"
#include "labrack/v1/worker.pb.h"
#include "worker/hypervisor/hypervisor.h"
#include "worker/images/image_cache.h"
#include "worker/sandbox/sandbox_manager.h"

namespace labrack::worker {

// The host's CPUs and memory (from the hypervisor), free disk under the state folder, what
// its sandboxes reserve, its cached images and sandboxes. Fails with the hypervisor's
// status (e.g. Unavailable when libvirtd is gone). Calls the hypervisor: may block briefly.
absl::StatusOr<v1::Inventory> BuildInventory(Hypervisor& hypervisor, SandboxManager& sandboxes,
                                             ImageCache& images);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SERVICE_INVENTORY_H_
