#include "controller/core/sandbox_api.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/names.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "common/topology/topology_validate.h"
#include "common/uuid.h"
#include "controller/core/console_password.h"
#include "controller/core/image_overrides.h"

namespace labrack::controller {
namespace {

constexpr uint32_t kMaxTtlSeconds = 30 * 24 * 3600;

absl::Status ValidateTtl(uint32_t ttl_seconds) {
  if (ttl_seconds <= kMaxTtlSeconds) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("ttl_seconds: at most ", kMaxTtlSeconds, " (30 days); 0 for no expiry"));
}

bool IsLabelKeyChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' || c == '_' || c == '/' ||
         c == '-';
}

v1::Sandbox NewSandbox(const v1::CreateSandboxRequest& request, const v1::TopologyRecord& record,
                       absl::Time now) {
  v1::Sandbox s;
  s.set_sandbox_id(NewUuid4());
  s.set_request_id(request.request_id());
  s.set_topology(record.topology().name());
  s.set_topology_version(record.version());
  s.set_candidate(request.candidate());
  *s.mutable_labels() = request.labels();
  *s.mutable_image_overrides() = request.image_overrides();
  s.set_phase(v1::SANDBOX_PHASE_SCHEDULED);
  s.set_generation(1);
  s.set_message("waiting for its host to build it");
  *s.mutable_reserved() = NeedsOf(record.topology());
  *s.mutable_created_at() = ToTimestamp(now);
  for (const v1::Node& node : record.topology().nodes()) s.add_nodes()->set_name(node.name());
  return s;
}

// The answer to a create whose request_id made `earlier`: that sandbox, unless this create
// is for another candidate or asks for other images, which the caller must not mistake for
// what it asked.
absl::StatusOr<v1::Sandbox> Replay(const v1::CreateSandboxRequest& request,
                                   const v1::Sandbox& earlier) {
  if (request.candidate() != earlier.candidate()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request_id: '", request.request_id(), "' already made sandbox ", earlier.sandbox_id(),
        " for candidate '", earlier.candidate(), "', not '", request.candidate(),
        "'; a different create needs a new request_id"));
  }
  if (SameOverrides(request.image_overrides(), earlier.image_overrides())) return earlier;
  return absl::InvalidArgumentError(absl::StrCat(
      "request_id: '", request.request_id(), "' already made sandbox ", earlier.sandbox_id(),
      " with image_overrides ", FormatOverrides(earlier.image_overrides()), ", not ",
      FormatOverrides(request.image_overrides()), "; a different create needs a new request_id"));
}

absl::Status SetConsolePassword(v1::Sandbox& sandbox) {
  ASSIGN_OR_RETURN(ConsolePassword password, NewConsolePassword());
  sandbox.set_console_password(password.password);
  sandbox.set_console_password_hash(password.hash);
  return absl::OkStatus();
}

}  // namespace

void MarkForDestroy(v1::Sandbox& s) {
  if (s.phase() == v1::SANDBOX_PHASE_DESTROYED || s.phase() == v1::SANDBOX_PHASE_DESTROYING) return;
  if (s.phase() == v1::SANDBOX_PHASE_FAILED) {
    // A failed sandbox was already torn down on its host and reserves nothing; leftovers,
    // if any, are orphans that the reconciler removes.
    s.set_phase(v1::SANDBOX_PHASE_DESTROYED);
    return;
  }
  s.set_phase(v1::SANDBOX_PHASE_DESTROYING);
  s.set_message("removing its guests, networks and disks");
}

absl::Status ValidateRequestId(const std::string& id) {
  if (id.size() > 64) return absl::InvalidArgumentError("request_id: at most 64 characters");
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') {
      return absl::InvalidArgumentError("request_id: only letters, digits, '.', '_' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ResolvedTopology> ResolveForCreate(TopologyCatalog& topologies,
                                                  const std::string& name, uint64_t version,
                                                  const google::protobuf::Map<std::string, std::string>& overrides) {
  ResolvedTopology resolved;
  ASSIGN_OR_RETURN(resolved.record, topologies.Get(name, version));
  // The effective topology: placement, image transfer and the worker all see its images.
  ASSIGN_OR_RETURN(v1::Topology effective, topologies.Override(resolved.record.topology(), overrides));
  // Images may have been removed since the topology was applied.
  RETURN_IF_ERROR(topologies.Check(effective));
  ASSIGN_OR_RETURN(resolved.snapshot, WithAssignedAddresses(effective));
  return resolved;
}

absl::Status ValidateLabels(const google::protobuf::Map<std::string, std::string>& labels) {
  if (labels.size() > 32) return absl::InvalidArgumentError("labels: at most 32");
  for (const auto& [key, value] : labels) {
    if (key.empty() || key.size() > 63 || !absl::ascii_isalnum(key[0])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "labels: key '", absl::CHexEscape(key), "' must be 1 to 63 characters starting with a letter or digit"));
    }
    for (char c : key) {
      if (!IsLabelKeyChar(c)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "labels: key '", absl::CHexEscape(key), "' may only hold a-z, 0-9, '.', '_', '/' and '-'"));
      }
    }
    if (value.size() > 63) return absl::InvalidArgumentError(absl::StrCat("labels[", key, "]: value longer than 63 characters"));
    for (char c : value) {
      if (c < ' ' || c > '~') return absl::InvalidArgumentError(absl::StrCat("labels[", key, "]: value must be printable ASCII"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Sandbox> SandboxApi::Create(const v1::CreateSandboxRequest& request,
                                               const std::string& owner) {
  RETURN_IF_ERROR(ValidateCandidateId("candidate", request.candidate()));
  return CreateWith(request, [&](v1::Sandbox& s) { s.set_owner(owner); });
}

absl::StatusOr<v1::Sandbox> SandboxApi::CreateInPool(const v1::CreateSandboxRequest& request,
                                                     const std::string& pool,
                                                     const std::string& spec) {
  if (!request.candidate().empty()) {
    return absl::InvalidArgumentError("candidate: a pool's idle sandbox has none");
  }
  return CreateWith(request, [&](v1::Sandbox& s) {
    s.set_pool(pool);
    s.set_pool_spec(spec);
    s.set_message(absl::StrCat("built for pool ", pool));
  });
}

absl::StatusOr<v1::Sandbox> SandboxApi::CreateWith(const v1::CreateSandboxRequest& request,
                                                   const std::function<void(v1::Sandbox&)>& extra) {
  RETURN_IF_ERROR(ValidateObjectName("topology", request.topology()));
  RETURN_IF_ERROR(ValidateLabels(request.labels()));
  RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  // A repeat is answered before looking at what may have changed since the first create
  // (the topology's latest version, the imported images).
  if (!request.request_id().empty()) {
    absl::StatusOr<v1::Sandbox> earlier = store_->GetSandboxByRequestId(request.request_id());
    if (earlier.ok()) return Replay(request, *earlier);
    if (!absl::IsNotFound(earlier.status())) return earlier.status();
  }
  RETURN_IF_ERROR(ValidateTtl(request.ttl_seconds()));
  ASSIGN_OR_RETURN(ResolvedTopology resolved,
                   ResolveForCreate(*topologies_, request.topology(), request.topology_version(),
                                    request.image_overrides()));
  const v1::TopologyRecord& record = resolved.record;
  const v1::Topology& snapshot = resolved.snapshot;
  const absl::Time now = config_->clock();
  v1::Sandbox sandbox = NewSandbox(request, record, now);
  if (extra) extra(sandbox);
  if (request.ttl_seconds() > 0) {
    *sandbox.mutable_expires_at() = ToTimestamp(now + absl::Seconds(request.ttl_seconds()));
  }
  RETURN_IF_ERROR(SetConsolePassword(sandbox));
  SandboxNeeds needs{sandbox.reserved(), ImagesOf(snapshot)};
  ASSIGN_OR_RETURN(
      v1::Sandbox created,
      store_->CreateSandbox(sandbox, snapshot, [&](const std::vector<HostRecord>& hosts) {
        return PickHost(HostViews(hosts), needs, config_->policy, config_->clock());
      }));
  // A concurrent create with the same request_id got there first.
  if (created.sandbox_id() != sandbox.sandbox_id()) return Replay(request, created);
  wake_(created.sandbox_id());
  return created;
}

absl::StatusOr<std::vector<v1::Sandbox>> SandboxApi::CreateClones(
    const v1::Sandbox& source, v1::Topology snapshot,
    const std::map<std::string, std::string>& node_images,
    const std::vector<std::string>& request_ids,
    const google::protobuf::Map<std::string, std::string>& labels, uint32_t ttl_seconds,
    const std::string& owner) {
  RETURN_IF_ERROR(ValidateLabels(labels));
  RETURN_IF_ERROR(ValidateTtl(ttl_seconds));
  for (const std::string& id : request_ids) RETURN_IF_ERROR(ValidateRequestId(id));
  ASSIGN_OR_RETURN(v1::TopologyRecord record,
                   topologies_->Get(source.topology(), source.topology_version()));
  for (v1::Node& node : *snapshot.mutable_nodes()) {
    auto image = node_images.find(node.name());
    if (image == node_images.end()) {
      return absl::InternalError(absl::StrCat("no image for node ", node.name(), " of the clone"));
    }
    node.set_image(image->second);
  }
  RETURN_IF_ERROR(topologies_->Check(snapshot));
  const absl::Time now = config_->clock();
  std::vector<v1::Sandbox> clones;
  for (const std::string& id : request_ids) {
    v1::CreateSandboxRequest request;
    request.set_request_id(id);
    *request.mutable_labels() = labels;
    v1::Sandbox& clone = clones.emplace_back(NewSandbox(request, record, now));
    clone.set_cloned_from(source.sandbox_id());
    clone.set_owner(owner);
    clone.set_message(absl::StrCat("a clone of ", source.sandbox_id(),
                                   "; waiting for its host to build it"));
    if (ttl_seconds > 0) *clone.mutable_expires_at() = ToTimestamp(now + absl::Seconds(ttl_seconds));
    RETURN_IF_ERROR(SetConsolePassword(clone));
  }
  SandboxNeeds needs{NeedsOf(record.topology()), ImagesOf(snapshot)};
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> created,
                   store_->CreateSandboxes(clones, snapshot, [&](const std::vector<HostRecord>& hosts) {
                     return PickHost(HostViews(hosts), needs, config_->policy, config_->clock());
                   }));
  for (const v1::Sandbox& clone : created) wake_(clone.sandbox_id());
  return created;
}

absl::StatusOr<v1::Sandbox> SandboxApi::Get(const std::string& sandbox_id) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", sandbox_id));
  absl::StatusOr<v1::Sandbox> s = store_->GetSandbox(sandbox_id);
  if (absl::IsNotFound(s.status())) {
    return absl::NotFoundError(absl::StrCat("sandbox ", sandbox_id, " not found"));
  }
  return s;
}

absl::StatusOr<std::vector<v1::Sandbox>> SandboxApi::List(const v1::ListSandboxesRequest& request) {
  SandboxFilter filter;
  if (request.phase() != v1::SANDBOX_PHASE_UNSPECIFIED) filter.phase = request.phase();
  if (!request.host_id().empty()) RETURN_IF_ERROR(ValidateObjectName("host_id", request.host_id()));
  if (!request.candidate().empty()) RETURN_IF_ERROR(ValidateCandidateId("candidate", request.candidate()));
  RETURN_IF_ERROR(ValidateLabels(request.labels()));
  filter.host_id = request.host_id();
  filter.candidate = request.candidate();
  if (!request.pool().empty()) RETURN_IF_ERROR(ValidateSessionName("pool", request.pool()));
  filter.pool = request.pool();
  if (!request.session_id().empty()) {
    RETURN_IF_ERROR(ValidateCandidateId("session_id", request.session_id()));
  }
  filter.session_id = request.session_id();
  filter.labels = {request.labels().begin(), request.labels().end()};
  filter.include_destroyed =
      request.include_destroyed() || request.phase() == v1::SANDBOX_PHASE_DESTROYED;
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> sandboxes, store_->ListSandboxes(filter));
  // A list goes to whoever watches the room; a console password only to its sandbox's owner.
  for (v1::Sandbox& s : sandboxes) {
    s.clear_console_password();
    s.clear_console_password_hash();
  }
  return sandboxes;
}

absl::StatusOr<v1::Sandbox> SandboxApi::Reset(const std::string& sandbox_id,
                                              const std::vector<std::string>& nodes) {
  // The rule of a name first: a malformed one is refused whatever the sandbox.
  for (size_t i = 0; i < nodes.size(); ++i) {
    RETURN_IF_ERROR(ValidateObjectName(absl::StrCat("nodes[", i, "]"), nodes[i]));
  }
  ASSIGN_OR_RETURN(v1::Sandbox current, Get(sandbox_id));
  std::set<std::string> known;
  for (const v1::NodeStatus& n : current.nodes()) known.insert(n.name());
  RETURN_IF_ERROR(ValidateNodeChoice(sandbox_id, known, nodes));
  const std::set<std::string> chosen(nodes.begin(), nodes.end());
  ASSIGN_OR_RETURN(v1::Sandbox s, store_->UpdateSandbox(sandbox_id, [&](v1::Sandbox& s) {
    if (s.phase() == v1::SANDBOX_PHASE_RESETTING) return absl::OkStatus();
    if (s.phase() != v1::SANDBOX_PHASE_READY) {
      return absl::FailedPreconditionError(
          absl::StrCat("sandbox ", s.sandbox_id(), " is ", v1::SandboxPhase_Name(s.phase()),
                       "; only a READY sandbox can be reset"));
    }
    s.set_phase(v1::SANDBOX_PHASE_RESETTING);
    s.set_generation(s.generation() + 1);
    s.clear_reset_nodes();
    for (const std::string& node : nodes) s.add_reset_nodes(node);
    s.set_message(nodes.empty() ? "restoring every node's pristine disks"
                                : absl::StrCat("restoring the pristine disks of ",
                                               absl::StrJoin(nodes, ", ")));
    for (v1::NodeStatus& n : *s.mutable_nodes()) {
      if (chosen.empty() || chosen.contains(n.name())) n.set_phase(v1::NODE_PHASE_UNSPECIFIED);
    }
    return absl::OkStatus();
  }));
  wake_(sandbox_id);
  return s;
}

absl::StatusOr<v1::Sandbox> SandboxApi::Destroy(const std::string& sandbox_id) {
  RETURN_IF_ERROR(Get(sandbox_id).status());
  ASSIGN_OR_RETURN(v1::Sandbox s, store_->UpdateSandbox(sandbox_id, [](v1::Sandbox& s) {
    MarkForDestroy(s);
    return absl::OkStatus();
  }));
  wake_(sandbox_id);
  return s;
}

}  // namespace labrack::controller
