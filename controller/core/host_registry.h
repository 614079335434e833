// Hosts as the controller sees them: registration and heartbeats from workers, health
// from the age of the last heartbeat, and draining. State lives in the Store; this class
// adds validation, health and events. Thread-safe.
#ifndef LABRACK_CONTROLLER_CORE_HOST_REGISTRY_H_
#define LABRACK_CONTROLLER_CORE_HOST_REGISTRY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/core/controller_config.h"
#include "controller/store/store.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

class HostRegistry {
 public:
  HostRegistry(Store* store, const ControllerConfig* config) : store_(store), config_(config) {}

  // Creates or refreshes a host. InvalidArgument for a bad host id or address.
  absl::StatusOr<v1::RegisterHostResponse> Register(const v1::RegisterHostRequest& request);
  // NotFound when the host never registered: the worker registers again.
  absl::Status Heartbeat(const v1::HeartbeatRequest& request);
  // Every host with its health as of now, sorted by id.
  absl::StatusOr<std::vector<v1::Host>> List();
  absl::StatusOr<v1::Host> Get(const std::string& host_id);
  // NotFound for an unknown host.
  absl::StatusOr<v1::Host> SetDrained(const std::string& host_id, bool drained);

  // Whether a host's last heartbeat is recent enough.
  bool Healthy(const v1::Host& host) const;
  v1::Host WithHealth(v1::Host host) const;

 private:
  Store* const store_;
  const ControllerConfig* const config_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CORE_HOST_REGISTRY_H_
