#include "controller/core/topology_catalog.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/topology/link_shape.h"
#include "common/topology/topology_validate.h"
#include "google/protobuf/util/time_util.h"

namespace labrack::controller {

namespace {

absl::Status NeverImported(const std::string& field, const std::string& image) {
  return absl::FailedPreconditionError(absl::StrCat(
      field, ": image '", image,
      "' was never imported; import it first (ImportImage)"));
}

}  // namespace

std::vector<HostView> HostViews(const std::vector<HostRecord>& records) {
  std::vector<HostView> views;
  views.reserve(records.size());
  for (const HostRecord& r : records) {
    HostView v;
    v.host_id = r.host.host_id();
    v.total = r.host.total();
    v.reserved = r.host.reserved();
    v.drained = r.host.drained();
    v.last_heartbeat = absl::FromUnixMicros(
        google::protobuf::util::TimeUtil::TimestampToMicroseconds(r.host.last_heartbeat()));
    for (const v1::ImageManifest& m : r.inventory.images()) v.cached_images.push_back(m.name());
    views.push_back(std::move(v));
  }
  return views;
}

absl::Status TopologyCatalog::Check(const v1::Topology& topology) const {
  RETURN_IF_ERROR(ValidateTopology(topology));
  for (const v1::Node& node : topology.nodes()) {
    if (images_->Lookup(node.image()).ok()) continue;
    return NeverImported(absl::StrCat("nodes[", node.name(), "].image"), node.image());
  }
  // A host without netem puts a link-emulator guest in every shaped link: a sandbox
  // admitted without its image would fail only when its host builds it.
  if (images_->Lookup(kLinkEmulatorImage).ok()) return absl::OkStatus();
  for (const v1::Network& network : topology.networks()) {
    if (!IsShaped(network)) continue;
    return absl::FailedPreconditionError(absl::StrCat(
        "networks[", network.name(), "].shape: a shaped link needs the link-emulator image '",
        kLinkEmulatorImage, "' on hosts without netem, and it was never imported; import it ",
        "first (ImportImage)"));
  }
  return absl::OkStatus();
}

std::string TopologyCatalog::Spec(const v1::TopologyRecord& record,
                                  const v1::Topology& effective) const {
  Sha256 digest;
  digest.Update(absl::StrCat("topology ", record.topology().name(), " ", record.sha256(), "\n"));
  std::set<std::string> images;
  for (const v1::Node& node : effective.nodes()) images.insert(node.image());
  for (const std::string& image : images) {
    digest.Update(absl::StrCat("image ", image));
    absl::StatusOr<worker::CachedImage> cached = images_->Lookup(image);
    if (cached.ok()) {
      for (const v1::ImageArtifact& a : cached->manifest.artifacts()) {
        digest.Update(absl::StrCat(" ", a.sha256()));
      }
    }
    digest.Update("\n");
  }
  return digest.HexDigest();
}

absl::StatusOr<v1::Topology> TopologyCatalog::Override(const v1::Topology& topology,
                                                       const ImageOverrides& overrides) const {
  ASSIGN_OR_RETURN(v1::Topology replaced, WithImageOverrides(topology, overrides));
  const std::map<std::string, std::string> sorted(overrides.begin(), overrides.end());
  for (const auto& [key, image] : sorted) {
    if (!images_->Lookup(image).ok()) return NeverImported(OverrideField(key), image);
  }
  return replaced;
}

absl::StatusOr<v1::ValidateTopologyResponse> TopologyCatalog::Validate(
    const v1::Topology& topology) {
  RETURN_IF_ERROR(Check(topology));
  ASSIGN_OR_RETURN(std::vector<HostRecord> hosts, store_->ListHosts());
  SandboxNeeds needs{NeedsOf(topology), ImagesOf(topology)};
  v1::ValidateTopologyResponse response;
  *response.mutable_needs() = needs.capacity;
  for (std::string& id : FittingHosts(HostViews(hosts), needs, config_->policy, config_->clock())) {
    response.add_fitting_hosts(std::move(id));
  }
  return response;
}

absl::StatusOr<v1::TopologyRecord> TopologyCatalog::Apply(const v1::Topology& topology,
                                                          const ImageOverrides& overrides) {
  ASSIGN_OR_RETURN(v1::Topology replaced, Override(topology, overrides));
  RETURN_IF_ERROR(Check(replaced));
  return store_->PutTopology(replaced, config_->clock());
}

absl::StatusOr<v1::TopologyRecord> TopologyCatalog::Get(const std::string& name,
                                                        uint64_t version) {
  RETURN_IF_ERROR(ValidateObjectName("topology", name));
  absl::StatusOr<v1::TopologyRecord> record = store_->GetTopology(name, version);
  if (absl::IsNotFound(record.status())) {
    return absl::NotFoundError(
        version == 0 ? absl::StrCat("topology '", name,
                                    "' not found; apply it first (ApplyTopology)")
                     : absl::StrCat("topology '", name, "' has no version ", version));
  }
  return record;
}

absl::StatusOr<std::vector<v1::TopologyRecord>> TopologyCatalog::List() {
  return store_->ListTopologies();
}

}  // namespace labrack::controller
