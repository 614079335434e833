#include "controller/core/host_registry.h"

#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/proto_time.h"
#include "common/status_macros.h"

namespace labrack::controller {
namespace {

absl::Status ValidateAddress(absl::string_view address) {
  if (address.empty() || address.size() > 255) {
    return absl::InvalidArgumentError("address: must be host:port, 1 to 255 characters");
  }
  if (address.find(':') == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("address: '", address, "' has no :port"));
  }
  for (char c : address) {
    if (c <= ' ' || c > '~') return absl::InvalidArgumentError("address: must be printable ASCII without spaces");
  }
  return absl::OkStatus();
}

v1::Event HostEvent(v1::EventKind kind, const std::string& host_id, std::string message) {
  v1::Event e;
  e.set_kind(kind);
  e.set_host_id(host_id);
  e.set_message(std::move(message));
  return e;
}

// The inventory as the store keeps it: stamped with when it was observed, by this
// controller's clock, so no clock of a worker is trusted.
v1::Inventory Observed(const v1::Inventory& inventory, absl::Time now) {
  v1::Inventory copy = inventory;
  absl::Time observed = now - absl::Milliseconds(inventory.age_ms());
  *copy.mutable_observed_at() = ToTimestamp(observed);
  return copy;
}

}  // namespace

absl::StatusOr<v1::RegisterHostResponse> HostRegistry::Register(
    const v1::RegisterHostRequest& request) {
  RETURN_IF_ERROR(ValidateObjectName("host_id", request.host_id()));
  RETURN_IF_ERROR(ValidateAddress(request.address()));
  absl::Time now = config_->clock();
  RETURN_IF_ERROR(store_->UpsertHost(request.host_id(), request.address(),
                                     Observed(request.inventory(), now), now));
  RETURN_IF_ERROR(store_
                      ->AppendEvent(HostEvent(v1::EVENT_KIND_HOST_REGISTERED, request.host_id(),
                                              absl::StrCat("registered at ", request.address())))
                      .status());
  v1::RegisterHostResponse response;
  response.set_heartbeat_interval_ms(absl::ToInt64Milliseconds(config_->heartbeat_interval));
  return response;
}

absl::Status HostRegistry::Heartbeat(const v1::HeartbeatRequest& request) {
  RETURN_IF_ERROR(ValidateObjectName("host_id", request.host_id()));
  absl::Time now = config_->clock();
  absl::StatusOr<HostRecord> before = store_->GetHost(request.host_id());
  RETURN_IF_ERROR(
      store_->RecordHeartbeat(request.host_id(), Observed(request.inventory(), now), now));
  // A worker that left KVM says so in its inventory: an event for whoever watches.
  const v1::Inventory& inv = request.inventory();
  if (!before.ok() || before->host.domain_type().empty() || inv.domain_type().empty() ||
      before->host.domain_type() == inv.domain_type()) {
    return absl::OkStatus();
  }
  std::string message = absl::StrCat("guests now run with ", inv.domain_type(), " (was ",
                                     before->host.domain_type(), "): ", inv.domain_type_reason());
  return store_
      ->AppendEvent(HostEvent(v1::EVENT_KIND_HOST_DOMAIN_TYPE, request.host_id(), message))
      .status();
}

bool HostRegistry::Healthy(const v1::Host& host) const {
  absl::Time last = ToTime(host.last_heartbeat());
  return config_->clock() - last <= config_->host_timeout;
}

v1::Host HostRegistry::WithHealth(v1::Host host) const {
  host.set_health(Healthy(host) ? v1::HOST_HEALTH_HEALTHY : v1::HOST_HEALTH_UNREACHABLE);
  return host;
}

absl::StatusOr<std::vector<v1::Host>> HostRegistry::List() {
  ASSIGN_OR_RETURN(std::vector<HostRecord> records, store_->ListHosts());
  std::vector<v1::Host> hosts;
  for (const HostRecord& r : records) hosts.push_back(WithHealth(r.host));
  return hosts;
}

absl::StatusOr<v1::Host> HostRegistry::Get(const std::string& host_id) {
  RETURN_IF_ERROR(ValidateObjectName("host_id", host_id));
  ASSIGN_OR_RETURN(HostRecord r, store_->GetHost(host_id));
  return WithHealth(r.host);
}

absl::StatusOr<v1::Host> HostRegistry::SetDrained(const std::string& host_id, bool drained) {
  RETURN_IF_ERROR(ValidateObjectName("host_id", host_id));
  ASSIGN_OR_RETURN(HostRecord r, store_->SetDrained(host_id, drained));
  RETURN_IF_ERROR(store_
                      ->AppendEvent(HostEvent(v1::EVENT_KIND_HOST_DRAINED, host_id,
                                              drained ? "drained" : "undrained"))
                      .status());
  return WithHealth(r.host);
}

}  // namespace labrack::controller
