#include "worker/sandbox/sandbox_manager.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/parallel.h"
#include "common/status_macros.h"
#include "common/topology/topology_validate.h"
#include "worker/sandbox/link_emulation.h"
#include "worker/sandbox/serial_log.h"
#include "spdlog/spdlog.h"

namespace labrack::worker {
namespace fs = std::filesystem;

namespace {

constexpr absl::Duration kReadyPoll = absl::Milliseconds(100);

// Creates an object, replacing a leftover of the same name (from a crash mid-create).
template <typename CreateFn, typename RemoveFn>
absl::Status CreateReplacing(CreateFn create, RemoveFn remove) {
  absl::Status s = create();
  if (!absl::IsAlreadyExists(s)) return s;
  RETURN_IF_ERROR(remove());
  return create();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SandboxManager>> SandboxManager::Create(Hypervisor* hypervisor,
                                                                       ImageCache* images,
                                                                       WorkerConfig config) {
  RETURN_IF_ERROR(ValidateObjectName("host_id", config.host_id));
  // One spelling of every path, so that libvirt's pool folder compares equal.
  config.state_dir = fs::path(config.state_dir).lexically_normal().string();
  while (config.state_dir.size() > 1 && config.state_dir.back() == '/') config.state_dir.pop_back();
  int slots = config.boot_slots;
  if (slots <= 0) {
    absl::StatusOr<HostResources> host = hypervisor->GetHostResources();
    slots = DefaultBootSlots(host.ok() ? static_cast<int>(host->cpus) : 1,
                             config.domain_type->type() == DomainType::kKvm);
  }
  std::unique_ptr<SandboxManager> m(
      new SandboxManager(hypervisor, images, std::move(config), slots));
  std::error_code ec;
  // qemu runs as its own user and must reach the volumes and logs below the state folder.
  fs::create_directories(m->config_.state_dir, ec);
  fs::permissions(m->config_.state_dir, fs::perms(0755), ec);
  for (const char* sub : {"volumes", "sandboxes"}) {
    std::string dir = absl::StrCat(m->config_.state_dir, "/", sub);
    fs::create_directories(dir, ec);
    if (ec) return absl::InternalError(absl::StrCat("create ", dir, ": ", ec.message()));
    fs::permissions(dir, fs::perms(0755), ec);
  }
  if (!m->config_.template_dir.empty()) {
    ASSIGN_OR_RETURN(m->template_store_, TemplateStore::Open(m->config_.template_dir,
                                                             m->config_.template_budget_bytes));
    ASSIGN_OR_RETURN(std::string version, hypervisor->GetVersion());
    m->templates_ = std::make_unique<NodeTemplates>(hypervisor, m->template_store_.get(), version,
                                                    m->config_.clock, m->config_.identity_timeout);
  }
  RETURN_IF_ERROR(m->TakePool());
  RETURN_IF_ERROR(m->Recover());
  return m;
}

std::string SandboxManager::pool_name() const { return absl::StrCat("labrack-", config_.host_id); }

std::string SandboxManager::SandboxDir(const std::string& sandbox_id) const {
  return absl::StrCat(config_.state_dir, "/sandboxes/", sandbox_id);
}

PlanContext SandboxManager::ContextFor(const std::string& sandbox_id) const {
  PlanContext ctx;
  ctx.host_id = config_.host_id;
  ctx.pool = pool_name();
  ctx.pool_dir = absl::StrCat(config_.state_dir, "/volumes");
  ctx.sandbox_dir = SandboxDir(sandbox_id);
  ctx.domain_type = config_.domain_type->type();
  ctx.host_has_netem = config_.host_has_netem;
  ctx.templates = templates_ != nullptr;
  ctx.resolve_image = [this](const std::string& name) { return images_->Lookup(name); };
  return ctx;
}

std::shared_ptr<SandboxManager::Entry> SandboxManager::Find(const std::string& sandbox_id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(sandbox_id);
  return it == entries_.end() ? nullptr : it->second;
}

std::vector<v1::Node> SandboxManager::HiddenNodes(const v1::Topology& topology) const {
  std::vector<v1::Node> nodes;
  for (EmulatedLink& link : EmulatedLinks(topology, config_.host_has_netem)) {
    nodes.push_back(std::move(link.emulator));
  }
  return nodes;
}

void SandboxManager::SetMarkers(Entry& entry, const v1::SandboxSpec& spec) {
  entry.markers.clear();
  std::vector<v1::Node> nodes(spec.topology().nodes().begin(), spec.topology().nodes().end());
  for (v1::Node& node : HiddenNodes(spec.topology())) nodes.push_back(std::move(node));
  for (const v1::Node& node : nodes) {
    absl::StatusOr<CachedImage> image = images_->Lookup(node.image());
    std::string marker = image.ok() ? image->manifest.readiness().serial_marker() : "";
    entry.markers[node.name()] = marker.empty() ? kDefaultReadyMarker : marker;
  }
}

// ---- create ----

absl::StatusOr<std::shared_ptr<SandboxManager::Entry>> SandboxManager::Admit(
    const v1::SandboxSpec& spec, bool* existing) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(spec.sandbox_id());
  if (it != entries_.end()) {
    absl::MutexLock entry_lock(&it->second->mu);
    if (it->second->spec.generation() != spec.generation()) {
      return absl::AbortedError(absl::StrCat("sandbox ", spec.sandbox_id(), " exists at generation ",
                                             it->second->spec.generation(), ", not ",
                                             spec.generation()));
    }
    *existing = true;
    return it->second;
  }
  for (const auto& [id, entry] : entries_) {
    if (Sandbox8(id) == Sandbox8(spec.sandbox_id())) {
      return absl::AlreadyExistsError(absl::StrCat("sandbox id ", spec.sandbox_id(),
                                                   " shares its first 8 characters with sandbox ",
                                                   id, " on this host; choose another id"));
    }
  }
  auto entry = std::make_shared<Entry>();
  absl::MutexLock entry_lock(&entry->mu);
  entry->spec = spec;
  entry->started = absl::Now();
  SetMarkers(*entry, spec);
  entries_[spec.sandbox_id()] = entry;
  *existing = false;
  return entry;
}

absl::StatusOr<v1::SandboxStatus> SandboxManager::CreateSandbox(const v1::SandboxSpec& input,
                                                                bool wait_ready) {
  RETURN_IF_ERROR(ValidateSandboxSpec(input));
  // Addresses are assigned once; the entry (and the metadata, through the plan) keep them.
  v1::SandboxSpec spec = input;
  ASSIGN_OR_RETURN(*spec.mutable_topology(), WithAssignedAddresses(input.topology()));
  ProbeDomainTypeWith(spec);
  PlanContext ctx = ContextFor(spec.sandbox_id());
  // Plan before admitting: a bad spec or a missing image changes nothing.
  ASSIGN_OR_RETURN(SandboxPlan plan, PlanSandbox(spec, ctx));
  bool existing = false;
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Admit(spec, &existing));
  if (!existing) {
    if (!WaitForBootSlots(*entry, plan)) {
      return absl::AbortedError(absl::StrCat("sandbox ", spec.sandbox_id(),
                                             " was destroyed while it waited to boot"));
    }
    absl::MutexLock op(&entry->op_mu);
    {
      // Destroyed, or frozen (its session ended), between its turn and this lock: a guest
      // must not start after that.
      const bool destroyed = Find(spec.sandbox_id()) != entry;
      absl::MutexLock lock(&entry->mu);
      if (destroyed || entry->phase != v1::SANDBOX_PHASE_PROVISIONING) {
        ReleaseBootSlots(*entry);
        entry->setting_up = false;
        return absl::AbortedError(absl::StrCat(
            "sandbox ", spec.sandbox_id(), " was ",
            destroyed ? "destroyed" : v1::SandboxPhase_Name(entry->phase), " while it waited to boot"));
      }
    }
    const std::string& topology = spec.topology().name();
    absl::Status built = Build(plan, topology);
    if (!built.ok() && RetryWithoutKvm(plan, built)) {
      bool existed = false;
      RemoveObjects(spec.sandbox_id(), &existed).IgnoreError();
      absl::StatusOr<SandboxPlan> emulated = PlanSandbox(spec, ContextFor(spec.sandbox_id()));
      built = emulated.ok() ? Build(*emulated, topology) : emulated.status();
    }
    if (!built.ok()) {
      bool existed = false;
      RemoveObjects(spec.sandbox_id(), &existed).IgnoreError();
      {
        absl::MutexLock lock(&entry->mu);
        ReleaseBootSlots(*entry);
        // A concurrent WaitReady on this entry returns with this.
        entry->phase = v1::SANDBOX_PHASE_FAILED;
        entry->message = std::string(built.message());
        entry->setting_up = false;
      }
      absl::MutexLock lock(&mu_);
      entries_.erase(spec.sandbox_id());
      return built;
    }
    absl::MutexLock lock(&entry->mu);
    entry->setting_up = false;
  }
  if (wait_ready) return WaitReady(*entry);
  return Observe(*entry);
}

bool SandboxManager::WaitForBootSlots(Entry& entry, const SandboxPlan& plan) {
  const std::string id = [&] {
    absl::MutexLock lock(&entry.mu);
    entry.setting_up = true;
    entry.message = "waiting for its turn to boot on this host";
    return entry.spec.sandbox_id();
  }();
  // A node restored from a template does not boot: it needs no slot.
  int n = 0;
  for (const NodePlan& node : plan.nodes) {
    if (templates_ == nullptr || !templates_->Has(node)) ++n;
  }
  bool got = n == 0 || boots_.Acquire(n, [&] { return Find(id).get() != &entry; });
  absl::MutexLock lock(&entry.mu);
  entry.message.clear();
  if (!got) {
    entry.setting_up = false;
    return false;
  }
  entry.boot_slots = n;
  entry.started = absl::Now();
  return true;
}

void SandboxManager::ReleaseBootSlots(Entry& entry) {
  if (entry.boot_slots == 0) return;
  boots_.Release(entry.boot_slots);
  entry.boot_slots = 0;
}

absl::Status SandboxManager::Build(const SandboxPlan& plan, const std::string& topology) {
  if (plan.nodes.empty()) return absl::OkStatus();
  std::error_code ec;
  std::string dir = fs::path(plan.nodes.front().domain.serial_log).parent_path();
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", dir, ": ", ec.message()));
  for (const NetworkSpec& net : plan.networks) {
    RETURN_IF_ERROR(CreateReplacing([&] { return hv_->CreateNetwork(net); },
                                    [&] { return hv_->DestroyNetwork(net.name); }));
  }
  // Before any guest starts: none is ever on its bridge unfiltered.
  RETURN_IF_ERROR(hv_->ApplyPortFilter(plan.port_filter));
  return RunInParallel(plan.nodes.size(),
                       [&](int i) { return BuildNode(plan.nodes[i], topology); });
}

absl::Status SandboxManager::BuildNode(const NodePlan& node, const std::string& topology) {
  std::error_code ec;
  fs::remove(RestoredStampPath(node.domain.serial_log), ec);
  const bool templated = templates_ != nullptr && node.templatable;
  if (templated && RestoreNode(node)) return ShapeTaps(node);
  for (const VolumeSpec& vol : node.volumes) {
    RETURN_IF_ERROR(CreateReplacing([&] { return hv_->CreateVolume(vol).status(); },
                                    [&] { return hv_->DeleteVolume(vol.pool, vol.name); }));
  }
  RETURN_IF_ERROR(hv_->DefineDomain(node.domain));
  RETURN_IF_ERROR(hv_->StartDomain(node.domain.name));
  if (templated && !CaptureNode(node, topology)) {
    // Booted again, as a node without a template: its password on its command line.
    const NodePlan cold = WithoutTemplate(node);
    // Undefined too: libvirt refuses to redefine a name under a new UUID.
    RETURN_IF_ERROR(hv_->DestroyDomain(cold.domain.name));
    RETURN_IF_ERROR(hv_->DefineDomain(cold.domain));
    RETURN_IF_ERROR(hv_->StartDomain(cold.domain.name));
  }
  return ShapeTaps(node);
}

bool SandboxManager::RestoreNode(const NodePlan& node) {
  absl::Status s = templates_->Restore(node);
  if (s.ok()) return true;
  if (absl::IsNotFound(s)) return false;  // no template yet: nothing was made
  templates_->CountFallback();
  spdlog::warn("templates: node {} boots instead of restoring: {}; its template is dropped",
               node.domain.name, std::string(s.message()));
  // The boot makes a new one.
  templates_->store()->Remove(templates_->KeyFor(node)).IgnoreError();
  hv_->DestroyDomain(node.domain.name).IgnoreError();
  for (const VolumeSpec& vol : node.volumes) hv_->DeleteVolume(vol.pool, vol.name).IgnoreError();
  return false;
}

bool SandboxManager::CaptureNode(const NodePlan& node, const std::string& topology) {
  const absl::Time deadline = absl::Now() + config_.ready_timeout;
  while (!SerialLogHasMarker(node.domain.serial_log, node.marker, node.node)) {
    absl::StatusOr<DomainInfo> info = hv_->GetDomain(node.domain.name);
    // Not up in time, or not running: readiness says so; no template of it.
    if (absl::Now() >= deadline || !info.ok() || info->state != DomainState::kRunning) return true;
    absl::SleepFor(kReadyPoll);
  }
  absl::Status s = templates_->Capture(node, topology);
  if (s.ok()) return true;
  templates_->CountFallback();
  spdlog::warn("templates: node {} boots again without a template: {}", node.domain.name,
               std::string(s.message()));
  return false;
}

absl::Status SandboxManager::ShapeTaps(const NodePlan& node) {
  // The tap exists once the domain runs, and goes with it: shape it after every start.
  for (const DomainNic& nic : node.domain.nics) {
    if (nic.host_netem.empty()) continue;
    absl::Status s = config_.shape_host_tap(nic.tap, nic.host_netem);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("node ", node.node, ": shaping its link on the host: ",
                                                 s.message()));
    }
  }
  return absl::OkStatus();
}

// ---- reset ----

namespace {

// The topology's own nodes (not the hidden ones): those a reset may name.
std::set<std::string> NodeNames(const v1::Topology& topology) {
  std::set<std::string> names;
  for (const v1::Node& n : topology.nodes()) names.insert(n.name());
  return names;
}

}  // namespace

absl::StatusOr<v1::SandboxStatus> SandboxManager::ResetSandbox(const std::string& sandbox_id,
                                                               uint64_t target_generation,
                                                               bool wait_ready,
                                                               const std::vector<std::string>& nodes) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", sandbox_id));
  std::shared_ptr<Entry> entry = Find(sandbox_id);
  if (!entry) return absl::NotFoundError(absl::StrCat("no sandbox ", sandbox_id, " on this host"));
  absl::MutexLock op(&entry->op_mu);
  v1::SandboxSpec spec;
  {
    absl::MutexLock lock(&entry->mu);
    if (entry->phase == v1::SANDBOX_PHASE_FROZEN) {
      // Its disks are an exam's evidence: only a destroy ends a frozen sandbox.
      return absl::FailedPreconditionError(
          absl::StrCat("sandbox ", sandbox_id, " is frozen; destroy it instead of resetting it"));
    }
    spec = entry->spec;
  }
  RETURN_IF_ERROR(ValidateNodeChoice(sandbox_id, NodeNames(spec.topology()), nodes));
  if (target_generation == spec.generation()) {
    return wait_ready ? WaitReady(*entry) : Observe(*entry);
  }
  if (target_generation != spec.generation() + 1) {
    return absl::AbortedError(absl::StrCat("sandbox ", sandbox_id, " is at generation ",
                                           spec.generation(), "; a reset can only move it to ",
                                           spec.generation() + 1, ", not ", target_generation));
  }
  spec.set_generation(target_generation);
  ProbeDomainTypeWith(spec);
  ASSIGN_OR_RETURN(SandboxPlan plan, PlanSandbox(spec, ContextFor(sandbox_id)));
  const std::set<std::string> chosen(nodes.begin(), nodes.end());
  auto fresh = [&](const std::string& node) { return chosen.empty() || chosen.contains(node); };
  {
    absl::MutexLock lock(&entry->mu);
    entry->phase = v1::SANDBOX_PHASE_RESETTING;
    for (const NodePlan& n : plan.nodes) {
      if (fresh(n.node)) entry->ready.erase(n.node);
    }
  }
  absl::Status s = Rebuild(plan, spec.topology().name(), fresh);
  if (!s.ok() && RetryWithoutKvm(plan, s)) {
    absl::StatusOr<SandboxPlan> emulated = PlanSandbox(spec, ContextFor(sandbox_id));
    s = emulated.ok() ? Rebuild(*emulated, spec.topology().name(), fresh) : emulated.status();
  }
  {
    absl::MutexLock lock(&entry->mu);
    if (!s.ok()) {
      entry->phase = v1::SANDBOX_PHASE_FAILED;
      entry->message = absl::StrCat("reset failed: ", s.message());
      return s;
    }
    entry->spec = spec;
    entry->phase = v1::SANDBOX_PHASE_PROVISIONING;
    entry->message.clear();
    entry->started = absl::Now();
    SetMarkers(*entry, spec);
  }
  return wait_ready ? WaitReady(*entry) : Observe(*entry);
}

// Stops each node that `fresh` names, swaps its volumes for fresh ones and starts it again:
// the cost is a few libvirt calls per node whatever the size of the image. The other nodes
// keep running with their disks; only their tags move to the plan's generation.
absl::Status SandboxManager::Rebuild(const SandboxPlan& plan, const std::string& topology,
                                     const std::function<bool(const std::string&)>& fresh) {
  // The same rules (MACs and addresses do not change), made whole again in case they were
  // lost or changed by hand.
  RETURN_IF_ERROR(hv_->ApplyPortFilter(plan.port_filter));
  return RunInParallel(plan.nodes.size(), [&](int i) -> absl::Status {
    const NodePlan& node = plan.nodes[i];
    if (!fresh(node.node)) return hv_->SetDomainTag(node.domain.name, node.domain.tag);
    // Undefined too: libvirt refuses to redefine a name under a new UUID.
    RETURN_IF_ERROR(hv_->DestroyDomain(node.domain.name));
    for (const VolumeSpec& vol : node.volumes) {
      RETURN_IF_ERROR(hv_->DeleteVolume(vol.pool, vol.name));
    }
    return BuildNode(node, topology);
  });
}

// ---- destroy ----

absl::StatusOr<bool> SandboxManager::DestroySandbox(const std::string& sandbox_id) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", sandbox_id));
  std::shared_ptr<Entry> entry = Find(sandbox_id);
  bool existed = entry != nullptr;
  if (entry) {
    absl::MutexLock op(&entry->op_mu);
    {
      absl::MutexLock lock(&entry->mu);
      entry->phase = v1::SANDBOX_PHASE_DESTROYING;
      ReleaseBootSlots(*entry);
    }
    RETURN_IF_ERROR(RemoveObjects(sandbox_id, &existed));
    absl::MutexLock lock(&mu_);
    entries_.erase(sandbox_id);
    return true;
  }
  RETURN_IF_ERROR(RemoveObjects(sandbox_id, &existed));
  return existed;
}

// Sweeps libvirt rather than trusting a plan, so that leftovers of a crash go too.
absl::Status SandboxManager::RemoveObjects(const std::string& sandbox_id, bool* existed) {
  // Its objects are named lr-<sandbox8>-...; no other sandbox of this host has that prefix
  // (Admit), and the tags confirm it.
  const std::string prefix = absl::StrCat(kObjectPrefix, Sandbox8(sandbox_id), "-");
  ASSIGN_OR_RETURN(std::vector<DomainInfo> domains, hv_->ListDomainsNamed(config_.host_id, prefix));
  std::vector<std::string> names;
  for (const DomainInfo& d : domains) {
    if (d.tag.sandbox_id == sandbox_id) names.push_back(d.name);
  }
  RETURN_IF_ERROR(RunInParallel(names.size(), [&](int i) { return hv_->DestroyDomain(names[i]); }));
  *existed = *existed || !names.empty();
  ASSIGN_OR_RETURN(std::vector<VolumeInfo> all_volumes, hv_->ListVolumes(pool_name()));
  std::vector<std::string> volumes;
  for (const VolumeInfo& v : all_volumes) {
    if (absl::StartsWith(v.name, prefix)) volumes.push_back(v.name);
  }
  *existed = *existed || !volumes.empty();
  RETURN_IF_ERROR(RunInParallel(volumes.size(),
                                [&](int i) { return hv_->DeleteVolume(pool_name(), volumes[i]); }));
  ASSIGN_OR_RETURN(std::vector<NetworkInfo> all_networks,
                   hv_->ListNetworksNamed(config_.host_id, prefix));
  std::vector<std::string> networks;
  for (const NetworkInfo& n : all_networks) {
    if (n.tag.sandbox_id == sandbox_id) networks.push_back(n.name);
  }
  *existed = *existed || !networks.empty();
  RETURN_IF_ERROR(RunInParallel(networks.size(),
                                [&](int i) { return hv_->DestroyNetwork(networks[i]); }));
  // A bridge whose network went while libvirtd was killed, or whose removal a killed worker
  // did not finish: no network names it any more, so only its name leads to it.
  ASSIGN_OR_RETURN(std::vector<std::string> bridges, hv_->ListUnbackedBridges());
  const std::string bridge_prefix = absl::StrCat("lr", Sandbox8(sandbox_id));
  for (const std::string& b : bridges) {
    if (!absl::StartsWith(b, bridge_prefix)) continue;
    RETURN_IF_ERROR(hv_->RemoveBridge(b));
    *existed = true;
  }
  // Last, once no guest of the sandbox is left to filter.
  ASSIGN_OR_RETURN(std::vector<PortFilterInfo> filters, hv_->ListPortFilters());
  for (const PortFilterInfo& f : filters) {
    if (f.sandbox8 != Sandbox8(sandbox_id)) continue;
    RETURN_IF_ERROR(hv_->RemovePortFilter(sandbox_id));
    *existed = true;
  }
  std::error_code ec;
  if (fs::remove_all(SandboxDir(sandbox_id), ec) > 0) *existed = true;
  if (ec) return absl::InternalError(absl::StrCat("remove ", SandboxDir(sandbox_id), ": ", ec.message()));
  return absl::OkStatus();
}

// ---- status ----

absl::StatusOr<v1::SandboxStatus> SandboxManager::GetSandbox(const std::string& sandbox_id) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", sandbox_id));
  std::shared_ptr<Entry> entry = Find(sandbox_id);
  if (!entry) return absl::NotFoundError(absl::StrCat("no sandbox ", sandbox_id, " on this host"));
  return Observe(*entry);
}

std::vector<v1::SandboxStatus> SandboxManager::ListSandboxes() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, entry] : entries_) entries.push_back(entry);
  }
  std::vector<v1::SandboxStatus> out;
  for (const auto& entry : entries) out.push_back(Observe(*entry));
  return out;
}

v1::NodeStatus SandboxManager::ObserveNode(Entry& entry, const v1::Node& node) {
  v1::NodeStatus ns;
  ns.set_name(node.name());
  ns.set_domain(DomainName(entry.spec.sandbox_id(), node.name()));
  for (const v1::Nic& nic : node.nics()) {
    if (!nic.address().empty()) ns.add_addresses(nic.address());
  }
  absl::StatusOr<DomainInfo> info = hv_->GetDomain(ns.domain());
  if (!info.ok()) {
    ns.set_phase(absl::IsNotFound(info.status()) ? v1::NODE_PHASE_MISSING : v1::NODE_PHASE_FAILED);
    ns.set_message(std::string(info.status().message()));
    return ns;
  }
  switch (info->state) {
    case DomainState::kRunning:
    case DomainState::kStarting:  // a build of this sandbox is starting it: booting soon
      break;
    case DomainState::kPaused:
      ns.set_phase(v1::NODE_PHASE_STOPPED);
      ns.set_message("paused");
      return ns;
    case DomainState::kShutoff:
      ns.set_phase(v1::NODE_PHASE_STOPPED);
      return ns;
    default:
      ns.set_phase(v1::NODE_PHASE_FAILED);
      ns.set_message("the guest crashed");
      return ns;
  }
  // While a reset rebuilds the sandbox, a node being reset may still run its old guest,
  // whose serial log holds the old marker: only the new guest's log, which its start
  // begins afresh, counts, once the reset has started every new guest.
  if (!entry.ready.contains(node.name()) && entry.phase != v1::SANDBOX_PHASE_RESETTING) {
    std::string log = SerialLogPath(SandboxDir(entry.spec.sandbox_id()), node.name());
    if (SerialLogHasMarker(log, entry.markers[node.name()], node.name()) ||
        fs::exists(RestoredStampPath(log))) {
      entry.ready.insert(node.name());
    }
  }
  ns.set_phase(entry.ready.contains(node.name()) ? v1::NODE_PHASE_READY : v1::NODE_PHASE_BOOTING);
  return ns;
}

v1::SandboxStatus SandboxManager::Observe(Entry& entry, std::vector<v1::NodeStatus>* hidden) {
  absl::MutexLock lock(&entry.mu);
  v1::SandboxStatus st;
  st.set_sandbox_id(entry.spec.sandbox_id());
  st.set_generation(entry.spec.generation());
  st.set_session_id(entry.spec.session_id());
  st.set_candidate(entry.spec.candidate());
  st.set_topology(entry.spec.topology().name());
  std::vector<EmulatedLink> links = EmulatedLinks(entry.spec.topology(), config_.host_has_netem);
  for (const v1::Network& net : entry.spec.topology().networks()) {
    auto link = std::find_if(links.begin(), links.end(),
                             [&](const EmulatedLink& l) { return l.network == net.name(); });
    if (link == links.end()) {
      st.add_networks(NetworkName(entry.spec.sandbox_id(), net.name()));
      continue;
    }
    st.add_networks(NetworkName(entry.spec.sandbox_id(), link->half_a));
    st.add_networks(NetworkName(entry.spec.sandbox_id(), link->half_b));
  }
  bool all_ready = true;
  for (const v1::Node& node : entry.spec.topology().nodes()) {
    *st.add_nodes() = ObserveNode(entry, node);
    all_ready = all_ready && st.nodes().rbegin()->phase() == v1::NODE_PHASE_READY;
  }
  for (const EmulatedLink& link : links) {
    v1::NodeStatus ns = ObserveNode(entry, link.emulator);
    all_ready = all_ready && ns.phase() == v1::NODE_PHASE_READY;
    if (hidden != nullptr) hidden->push_back(std::move(ns));
  }
  if (entry.phase == v1::SANDBOX_PHASE_PROVISIONING && all_ready) {
    entry.phase = v1::SANDBOX_PHASE_READY;
  }
  if (entry.phase != v1::SANDBOX_PHASE_PROVISIONING) ReleaseBootSlots(entry);
  st.set_phase(entry.phase);
  st.set_message(entry.message);
  return st;
}

absl::StatusOr<v1::SandboxStatus> SandboxManager::WaitReady(Entry& entry) {
  for (;;) {
    absl::Time deadline;
    bool setting_up;
    {
      absl::MutexLock lock(&entry.mu);
      setting_up = entry.setting_up;
      deadline = entry.started + config_.ready_timeout;
    }
    // Another call is still creating it (waiting for its turn to boot, or defining its
    // guests): not all of them exist yet, and its clock may not have started.
    if (setting_up) {
      absl::SleepFor(kReadyPoll);
      continue;
    }
    std::vector<v1::NodeStatus> nodes;
    v1::SandboxStatus st = Observe(entry, &nodes);
    // Fails the build, unless the sandbox moved on meanwhile (e.g. a freeze paused it).
    auto fail = [&](std::string message) {
      absl::MutexLock lock(&entry.mu);
      if (entry.phase == v1::SANDBOX_PHASE_PROVISIONING) {
        entry.phase = v1::SANDBOX_PHASE_FAILED;
        entry.message = std::move(message);
        ReleaseBootSlots(entry);
      }
      st.set_phase(entry.phase);
      st.set_message(entry.message);
      return st;
    };
    if (st.phase() != v1::SANDBOX_PHASE_PROVISIONING) return st;
    nodes.insert(nodes.begin(), st.nodes().begin(), st.nodes().end());
    // A node whose domain vanished, stopped or crashed (e.g. a worker killed half-way
    // through the build) will never get ready: say so now rather than at the deadline.
    for (const v1::NodeStatus& n : nodes) {
      if (n.phase() != v1::NODE_PHASE_MISSING && n.phase() != v1::NODE_PHASE_FAILED &&
          n.phase() != v1::NODE_PHASE_STOPPED) {
        continue;
      }
      return fail(absl::StrCat("node ", n.name(), " is ", v1::NodePhase_Name(n.phase()), ": ",
                               n.message()));
    }
    if (absl::Now() >= deadline) {
      std::string late;
      for (const v1::NodeStatus& n : nodes) {
        if (n.phase() != v1::NODE_PHASE_READY) absl::StrAppend(&late, late.empty() ? "" : ", ", n.name());
      }
      return fail(absl::StrCat("not ready within ", absl::FormatDuration(config_.ready_timeout),
                               ": ", late));
    }
    absl::SleepFor(kReadyPoll);
  }
}

v1::Capacity SandboxManager::Allocated() {
  v1::Capacity cap;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, entry] : entries_) {
    absl::MutexLock entry_lock(&entry->mu);
    std::vector<v1::Node> nodes(entry->spec.topology().nodes().begin(),
                                entry->spec.topology().nodes().end());
    for (v1::Node& node : HiddenNodes(entry->spec.topology())) nodes.push_back(std::move(node));
    for (const v1::Node& node : nodes) {
      cap.set_vcpus(cap.vcpus() + node.vcpus());
      cap.set_memory_mib(cap.memory_mib() + node.memory_mib());
      for (const v1::Disk& d : node.disks()) cap.set_disk_mib(cap.disk_mib() + d.size_mib());
    }
  }
  return cap;
}

}  // namespace labrack::worker
