// Topologies the controller can build: validated (names, addresses, images known to the
// controller) before they are stored, versioned by the Store. Thread-safe.
#ifndef LABRACK_CONTROLLER_CORE_TOPOLOGY_CATALOG_H_
#define LABRACK_CONTROLLER_CORE_TOPOLOGY_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/core/controller_config.h"
#include "controller/core/host_registry.h"
#include "controller/core/image_overrides.h"
#include "controller/store/store.h"
#include "labrack/v1/controller.pb.h"
#include "worker/images/image_cache.h"

namespace labrack::controller {

class TopologyCatalog {
 public:
  TopologyCatalog(Store* store, worker::ImageCache* images, const ControllerConfig* config)
      : store_(store), images_(images), config_(config) {}

  // InvalidArgument naming the field and rule; FailedPrecondition for an image that was
  // never imported.
  absl::Status Check(const v1::Topology& topology) const;
  // Check(), then what one sandbox needs and which hosts could take one now.
  absl::StatusOr<v1::ValidateTopologyResponse> Validate(const v1::Topology& topology);
  // WithImageOverrides() (InvalidArgument), FailedPrecondition naming the entry for a
  // value that was never imported; then the topology with every node's image replaced.
  absl::StatusOr<v1::Topology> Override(const v1::Topology& topology,
                                        const ImageOverrides& overrides) const;
  // Override(), Check() of the result, then stores the result (a new version only when
  // it changed).
  absl::StatusOr<v1::TopologyRecord> Apply(const v1::Topology& topology,
                                           const ImageOverrides& overrides = {});
  // A digest of what a sandbox of `record` is built of: the topology version's sha256 and,
  // for every image `effective` (the record with overrides applied) runs, the sha256 of its
  // artifacts as imported now. Changes when the topology or one of its images does.
  std::string Spec(const v1::TopologyRecord& record, const v1::Topology& effective) const;
  // NotFound, with a hint to apply it, for an unknown name or version.
  absl::StatusOr<v1::TopologyRecord> Get(const std::string& name, uint64_t version);
  absl::StatusOr<std::vector<v1::TopologyRecord>> List();

 private:
  Store* const store_;
  worker::ImageCache* const images_;
  const ControllerConfig* const config_;
};

// The hosts of `records` as the scheduler sees them.
std::vector<HostView> HostViews(const std::vector<HostRecord>& records);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CORE_TOPOLOGY_CATALOG_H_
