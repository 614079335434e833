// Keeps each warm pool at its size, one step per call: replaces idle sandboxes of an older
// spec (a new topology version or a newly imported image) or that failed, creates new ones
// until `size` are ready or building, and removes a deleting pool once its idle sandboxes
// are gone. Sandboxes handed out have left the pool and are never touched. Every decision is
// read from the store, so a restarted controller goes on where it stopped without building
// a sandbox twice. The reconciler calls Advance for each pool, never twice at once for one.
// Thread-safe.
#ifndef LABRACK_CONTROLLER_POOLS_POOL_DRIVER_H_
#define LABRACK_CONTROLLER_POOLS_POOL_DRIVER_H_

#include <string>

#include "absl/status/statusor.h"
#include "controller/core/sandbox_api.h"
#include "controller/core/topology_catalog.h"
#include "controller/store/store.h"

namespace labrack::controller {

class PoolDriver {
 public:
  PoolDriver(Store* store, TopologyCatalog* topologies, SandboxApi* sandboxes)
      : store_(store), topologies_(topologies), sandboxes_(sandboxes) {}

  // True when it changed something (the next step may follow at once).
  absl::StatusOr<bool> Advance(const std::string& pool_name);

 private:
  absl::StatusOr<bool> Drain(const v1::Pool& pool, const std::vector<v1::Sandbox>& members);
  absl::StatusOr<v1::Pool> FollowLatest(const v1::Pool& pool);
  // Destroys an idle sandbox unless it was handed out meanwhile.
  absl::Status Retire(const v1::Pool& pool, const v1::Sandbox& sandbox);
  absl::StatusOr<bool> Refill(const v1::Pool& pool, int missing);
  absl::Status SetMessage(const std::string& pool_name, const std::string& message);

  Store* const store_;
  TopologyCatalog* const topologies_;
  SandboxApi* const sandboxes_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_POOLS_POOL_DRIVER_H_
