// The sandbox calls of the public API: each validates its input, makes one store
// transaction that records the desired state (placing a new sandbox on a host with room),
// and wakes the reconciler, which does the slow work on the hosts. Thread-safe.
#ifndef LABRACK_CONTROLLER_CORE_SANDBOX_API_H_
#define LABRACK_CONTROLLER_CORE_SANDBOX_API_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/core/controller_config.h"
#include "controller/core/topology_catalog.h"
#include "controller/store/store.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

class SandboxApi {
 public:
  // `wake` is called with a sandbox id after every accepted change.
  SandboxApi(Store* store, TopologyCatalog* topologies, const ControllerConfig* config,
             std::function<void(const std::string&)> wake)
      : store_(store), topologies_(topologies), config_(config), wake_(std::move(wake)) {}

  // SCHEDULED on a host, built from the topology with the request's image_overrides
  // applied (see image_overrides.h). A request_id that made a sandbox already: that
  // sandbox, or InvalidArgument when its image_overrides differ. NotFound for an unknown
  // topology; InvalidArgument for bad names, labels or overrides; FailedPrecondition for an
  // image never imported; ResourceExhausted with needed and free capacity when no host fits.
  // `owner`: the caller's token name (Sandbox.owner).
  absl::StatusOr<v1::Sandbox> Create(const v1::CreateSandboxRequest& request,
                                     const std::string& owner = "");
  // As Create, for an idle sandbox of a warm pool: `pool` and `pool_spec` are set, and
  // the request carries no candidate.
  absl::StatusOr<v1::Sandbox> CreateInPool(const v1::CreateSandboxRequest& request,
                                           const std::string& pool, const std::string& spec);
  // Clones of `source`, built from `snapshot` (the source's) with each node's image
  // replaced by node_images[node], one per entry of `request_ids` (each may be empty), all
  // placed in one transaction or none. InvalidArgument for bad labels or ttl;
  // FailedPrecondition for an image never imported; ResourceExhausted with needed and free
  // capacity when they do not all fit.
  absl::StatusOr<std::vector<v1::Sandbox>> CreateClones(
      const v1::Sandbox& source, v1::Topology snapshot,
      const std::map<std::string, std::string>& node_images,
      const std::vector<std::string>& request_ids,
      const google::protobuf::Map<std::string, std::string>& labels, uint32_t ttl_seconds,
      const std::string& owner = "");
  absl::StatusOr<v1::Sandbox> Get(const std::string& sandbox_id);
  absl::StatusOr<std::vector<v1::Sandbox>> List(const v1::ListSandboxesRequest& request);
  // RESETTING at generation + 1. FailedPrecondition unless READY (RESETTING: returned as is).
  // `nodes`: only these (names of the sandbox's nodes, each once); empty: every node.
  absl::StatusOr<v1::Sandbox> Reset(const std::string& sandbox_id,
                                    const std::vector<std::string>& nodes = {});
  // DESTROYING (DESTROYED stays DESTROYED).
  absl::StatusOr<v1::Sandbox> Destroy(const std::string& sandbox_id);

 private:
  absl::StatusOr<v1::Sandbox> CreateWith(const v1::CreateSandboxRequest& request,
                                         const std::function<void(v1::Sandbox&)>& extra);

  Store* const store_;
  TopologyCatalog* const topologies_;
  const ControllerConfig* const config_;
  const std::function<void(const std::string&)> wake_;
};

// What a destroy writes: DESTROYING, or DESTROYED for a FAILED sandbox (its host tore it
// down already); DESTROYING and DESTROYED stay as they are.
void MarkForDestroy(v1::Sandbox& sandbox);

// InvalidArgument naming request_id unless it is at most 64 of [A-Za-z0-9._-] (or empty).
absl::Status ValidateRequestId(const std::string& id);

// A topology as a create builds from it: the stored record, and the snapshot every
// sandbox gets (overrides applied, addresses assigned).
struct ResolvedTopology {
  v1::TopologyRecord record;
  v1::Topology snapshot;
};
// NotFound for an unknown topology or version; InvalidArgument for bad overrides;
// FailedPrecondition for an image never imported.
absl::StatusOr<ResolvedTopology> ResolveForCreate(
    TopologyCatalog& topologies, const std::string& name, uint64_t version,
    const google::protobuf::Map<std::string, std::string>& overrides);

// InvalidArgument naming the label and the rule: keys 1 to 63 of [a-z0-9._/-] starting
// with a letter or digit; values 0 to 63 printable ASCII characters.
absl::Status ValidateLabels(const google::protobuf::Map<std::string, std::string>& labels);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CORE_SANDBOX_API_H_
