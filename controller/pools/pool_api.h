// The warm-pool calls of the public API. Create and Delete record the desired state (the
// pool driver builds and destroys in the background); Assign hands a READY idle sandbox to
// a candidate in one store transaction. Thread-safe.
#ifndef LABRACK_CONTROLLER_POOLS_POOL_API_H_
#define LABRACK_CONTROLLER_POOLS_POOL_API_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/core/controller_config.h"
#include "controller/core/topology_catalog.h"
#include "controller/store/store.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

inline constexpr uint32_t kMaxPoolSize = 200;

class PoolApi {
 public:
  // `wake` is called after every accepted change.
  PoolApi(Store* store, TopologyCatalog* topologies, const ControllerConfig* config,
          std::function<void()> wake)
      : store_(store), topologies_(topologies), config_(config), wake_(std::move(wake)) {}

  // Of the topology's latest version. InvalidArgument naming the field for a bad name,
  // size, overrides or request_id; NotFound for an unknown topology; FailedPrecondition
  // for an image never imported; AlreadyExists for a name in use. A request_id that made
  // a pool: that pool.
  absl::StatusOr<v1::Pool> Create(const v1::CreatePoolRequest& request);
  // With its idle sandboxes counted. NotFound for an unknown name.
  absl::StatusOr<v1::Pool> Get(const std::string& name);
  absl::StatusOr<std::vector<v1::Pool>> List();
  // Deleting (a second delete changes nothing). NotFound for an unknown name.
  absl::StatusOr<v1::Pool> Delete(const std::string& name);
  // The sandbox, with its console password. InvalidArgument naming the field for a bad
  // pool name, candidate, label or request_id; otherwise Store::AssignFromPool's codes.
  // `owner`: the caller's token name, the sandbox's new owner.
  absl::StatusOr<v1::Sandbox> Assign(const v1::AssignFromPoolRequest& request,
                                     const std::string& owner = "");

 private:
  absl::StatusOr<v1::Pool> WithCounts(v1::Pool pool);

  Store* const store_;
  TopologyCatalog* const topologies_;
  const ControllerConfig* const config_;
  const std::function<void()> wake_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_POOLS_POOL_API_H_
