// The worker's logic: builds, reports, resets, freezes and destroys sandboxes on one host
// through a Hypervisor, keyed by sandbox id and generation so that every call is safe to
// retry. Its only durable state is libvirt's (object metadata) and the image cache;
// Recover() rebuilds the rest after a restart. Thread-safe: calls on one sandbox run one at
// a time, calls on different sandboxes in parallel.
#ifndef LABRACK_WORKER_SANDBOX_SANDBOX_MANAGER_H_
#define LABRACK_WORKER_SANDBOX_SANDBOX_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "labrack/v1/types.pb.h"
#include "labrack/v1/worker.pb.h"
#include "worker/host/host_netem.h"
#include "worker/hypervisor/hypervisor.h"
#include "worker/images/image_cache.h"
#include "worker/sandbox/boot_gate.h"
#include "worker/sandbox/domain_type_choice.h"
#include "worker/sandbox/node_templates.h"
#include "worker/sandbox/sandbox_plan.h"

namespace labrack::worker {

// The most ReadEvidence returns in one call.
inline constexpr uint32_t kMaxEvidenceReadBytes = 1 << 20;

struct WorkerConfig {
  std::string host_id;
  std::string state_dir;
  // KVM or software emulation, and why; shared with the inventory.
  std::shared_ptr<DomainTypeChoice> domain_type =
      DomainTypeChoice::Fixed(DomainType::kQemu, "software emulation");
  // How long a guest may take to print its readiness marker.
  absl::Duration ready_timeout = absl::Seconds(120);
  // Whether the host kernel has netem (see PlanContext::host_has_netem). Last, so that
  // aggregate initialisations of the fields above stay valid.
  bool host_has_netem = false;
  // Guests that may boot at once (boot_gate.h); 0: DefaultBootSlots for the host.
  int boot_slots = 0;
  // Puts netem with the given tc arguments on a tap device (ShapeHostTap; tests replace it).
  std::function<absl::Status(const std::string& tap, const std::string& netem_args)>
      shape_host_tap = ShapeHostTap;
  // How often AdoptStrays looks at libvirt again.
  absl::Duration adopt_interval = absl::Seconds(10);
  // Where the host's templates live (node_templates.h); empty: none, every node boots.
  std::string template_dir = "";
  // The most bytes they may take (least recently used evicted first); 0: no limit.
  uint64_t template_budget_bytes = 0;
  // How long a restored guest's agent may take to take its identity (guest_identity.h).
  absl::Duration identity_timeout = NodeTemplates::kIdentityTimeout;
  // The time restored guests are given.
  std::function<absl::Time()> clock = absl::Now;
};

class SandboxManager {
 public:
  // Prepares the storage pool and folders under config.state_dir, then Recover()s.
  static absl::StatusOr<std::unique_ptr<SandboxManager>> Create(Hypervisor* hypervisor,
                                                                ImageCache* images,
                                                                WorkerConfig config);

  // Builds and starts a sandbox. The same id and generation again returns its status;
  // another generation of an existing id is Aborted; an id whose first 8 characters clash
  // with another sandbox's is AlreadyExists; a bad spec is InvalidArgument and a missing
  // image NotFound, with nothing created. On any failure everything made is removed.
  absl::StatusOr<v1::SandboxStatus> CreateSandbox(const v1::SandboxSpec& spec, bool wait_ready);
  // NotFound for an unknown id.
  absl::StatusOr<v1::SandboxStatus> GetSandbox(const std::string& sandbox_id);
  std::vector<v1::SandboxStatus> ListSandboxes();
  // Discards the disks of `nodes` (empty: every node, the hidden ones included) and restarts
  // them; the other nodes keep running, their disks untouched. Every node moves to
  // target_generation (current + 1). The current generation is a no-op; any other is
  // Aborted; a name that is not one of the topology's nodes is InvalidArgument; a frozen
  // sandbox is FailedPrecondition.
  absl::StatusOr<v1::SandboxStatus> ResetSandbox(const std::string& sandbox_id,
                                                 uint64_t target_generation, bool wait_ready,
                                                 const std::vector<std::string>& nodes = {});
  // Removes every domain, network, volume and file of the sandbox, also ones a crash left
  // behind. Returns whether anything existed.
  absl::StatusOr<bool> DestroySandbox(const std::string& sandbox_id);

  // Pauses every running guest of the sandbox, hidden link emulators included, once a
  // create or reset in progress has started them all. Phase FROZEN from the first call on:
  // nothing but DestroySandbox changes it any more. Again: pauses whatever runs (if
  // anything) and returns the status. NotFound for an unknown id; a failed pause returns
  // its error, with the sandbox FROZEN but its evidence refused until a retry succeeds.
  absl::StatusOr<v1::SandboxStatus> FreezeSandbox(const std::string& sandbox_id);
  // The files of a frozen sandbox's evidence, node by node in topology order (not the
  // hidden ones): root overlay, blank disks, serial log when there is one. NotFound for an
  // unknown id; FailedPrecondition unless frozen with every guest paused; DataLoss when a
  // disk file is missing.
  absl::StatusOr<std::vector<v1::EvidenceFile>> ListEvidence(const std::string& sandbox_id);
  // Up to min(max_bytes, kMaxEvidenceReadBytes) bytes (0: the latter) of the file that
  // ListEvidence names `name`, from `offset`; empty at or past its end. NotFound for a name
  // it does not list; otherwise as ListEvidence.
  absl::StatusOr<std::string> ReadEvidence(const std::string& sandbox_id, const std::string& name,
                                           uint64_t offset, uint32_t max_bytes);

  // Makes each topology node's disk, as it is now, the disk of a new image named
  // <image_prefix>-<node> in the image cache, layered on the node's image
  // (ImageCache::AddLayer), and returns the images in topology order. Every guest is
  // paused while the disks are copied, so that the nodes are captured at one moment, and
  // resumed before the images are made. The same call again returns the images it made
  // (their version names the sandbox and generation). NotFound for an unknown id;
  // FailedPrecondition unless READY; Aborted at another generation; InvalidArgument for a
  // prefix that makes a bad image name; AlreadyExists, with nothing made or paused, when
  // another image holds one of the names.
  absl::StatusOr<std::vector<v1::ImageManifest>> CaptureSandbox(const std::string& sandbox_id,
                                                                uint64_t generation,
                                                                const std::string& image_prefix);

  // Rebuilds the list of sandboxes from the libvirt objects tagged with this host's id. A
  // sandbox with paused domains and none running comes back FROZEN (only a freeze pauses).
  absl::Status Recover();
  // Recover() again, at most every config.adopt_interval: objects tagged with this host's id that
  // appeared behind the worker's back (another process, by hand) are listed from then on,
  // so that the controller sees and removes those it does not know. A sandbox destroyed
  // while its objects were being listed may come back as an empty FAILED entry; the
  // controller removes it like any orphan. Folders under sandboxes/ of sandboxes with no
  // libvirt object left (a worker killed while destroying) are removed, and so are bridges
  // that no network has used for two passes in a row (libvirtd killed mid-network), and
  // port filters stamped with this host's id of sandboxes the worker does not have.
  void AdoptStrays();

  v1::Capacity Allocated();
  const WorkerConfig& config() const { return config_; }
  // The host's templates; null when config.template_dir is empty.
  NodeTemplates* templates() const { return templates_.get(); }
  std::string pool_name() const;

 private:
  // Removes folders under sandboxes/ of sandboxes this worker does not have (AdoptStrays).
  void RemoveStrayFolders();
  // Removes labrack bridges that no network uses and that the previous pass saw too.
  void RemoveStrayBridges();
  // Removes templates whose image the cache holds no longer, or at another version.
  void RemoveStaleTemplates();
  // Removes port filters of this host whose sandbox this worker does not have (AdoptStrays).
  void RemoveStrayPortFilters();
  struct Entry {
    absl::Mutex op_mu;  // held for a whole create/reset/destroy
    absl::Mutex mu;
    v1::SandboxSpec spec ABSL_GUARDED_BY(mu);
    v1::SandboxPhase phase ABSL_GUARDED_BY(mu) = v1::SANDBOX_PHASE_PROVISIONING;
    std::string message ABSL_GUARDED_BY(mu);
    // node -> readiness marker of its image
    std::map<std::string, std::string> markers ABSL_GUARDED_BY(mu);
    // nodes seen ready since their last start
    std::set<std::string> ready ABSL_GUARDED_BY(mu);
    absl::Time started ABSL_GUARDED_BY(mu);
    // FROZEN and the last freeze paused every guest: its evidence no longer changes.
    bool all_paused ABSL_GUARDED_BY(mu) = false;
    // Its create is waiting for boot slots or still defining its objects; and the slots
    // it holds while its guests boot.
    bool setting_up ABSL_GUARDED_BY(mu) = false;
    int boot_slots ABSL_GUARDED_BY(mu) = 0;
  };

  SandboxManager(Hypervisor* hypervisor, ImageCache* images, WorkerConfig config, int boot_slots)
      : hv_(hypervisor), images_(images), config_(std::move(config)), boots_(boot_slots) {}

  // Waits for boot slots for every guest of `plan`; false when the sandbox was destroyed
  // meanwhile. Starts the readiness clock.
  bool WaitForBootSlots(Entry& entry, const SandboxPlan& plan);
  // Gives the entry's boot slots back (its guests are ready, failed, frozen or gone).
  void ReleaseBootSlots(Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(entry.mu);

  PlanContext ContextFor(const std::string& sandbox_id) const;
  std::string SandboxDir(const std::string& sandbox_id) const;
  std::shared_ptr<Entry> Find(const std::string& sandbox_id);
  absl::StatusOr<std::shared_ptr<Entry>> Admit(const v1::SandboxSpec& spec, bool* existing);

  // With --domain-type auto, probes KVM before the first build with the first of the
  // spec's images that boots a kernel directly (sandbox_domain_type.cc).
  void ProbeDomainTypeWith(const v1::SandboxSpec& spec);
  // Whether a build of `plan` that failed with `failure` should run again under software
  // emulation: it ran under KVM, the error points at KVM, and the host has left KVM (now,
  // or meanwhile for another sandbox).
  bool RetryWithoutKvm(const SandboxPlan& plan, const absl::Status& failure);

  // Makes the host's storage pool, taking over one that a stopped worker of this host id
  // left with another state folder when nothing of that worker's is left in libvirt;
  // FailedPrecondition naming --host-id when something is (sandbox_recovery.cc).
  absl::Status TakePool();

  absl::Status Build(const SandboxPlan& plan, const std::string& topology);
  absl::Status BuildNode(const NodePlan& node, const std::string& topology);
  // Restores `node` from its template; false (nothing left made) when there is none or
  // the restore failed, which is logged and counted.
  bool RestoreNode(const NodePlan& node);
  // Waits for the booted `node`'s marker and makes it its host's template. False when it
  // was saved but could not run on from its state with its identity; true otherwise
  // (also when its marker did not come: readiness says so).
  bool CaptureNode(const NodePlan& node, const std::string& topology);
  // Puts netem on the node's shaped taps, which exist once its domain runs.
  absl::Status ShapeTaps(const NodePlan& node);
  absl::Status Rebuild(const SandboxPlan& plan, const std::string& topology,
                       const std::function<bool(const std::string&)>& fresh);
  absl::Status RemoveObjects(const std::string& sandbox_id, bool* existed);
  // The spec of a READY sandbox at `generation`; codes as CaptureSandbox.
  absl::StatusOr<v1::SandboxSpec> CapturableSpec(Entry& entry, uint64_t generation);
  // Copies each node's root overlay whose name is in `copies` (node -> destination) while
  // every guest of the sandbox is paused, and resumes them.
  absl::Status CopyDisksPaused(const std::string& sandbox_id,
                               const std::map<std::string, std::string>& copies);
  // The spec of a sandbox whose guests are all paused; codes as ListEvidence.
  absl::StatusOr<v1::SandboxSpec> FrozenSpec(const std::string& sandbox_id);

  // `hidden`, when given, receives the status of the hidden link emulators, which count for
  // readiness but are not the candidate's nodes.
  v1::SandboxStatus Observe(Entry& entry, std::vector<v1::NodeStatus>* hidden = nullptr);
  // The sandbox's hidden link-emulator nodes on this host.
  std::vector<v1::Node> HiddenNodes(const v1::Topology& topology) const;
  v1::NodeStatus ObserveNode(Entry& entry, const v1::Node& node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(entry.mu);
  absl::StatusOr<v1::SandboxStatus> WaitReady(Entry& entry);
  void SetMarkers(Entry& entry, const v1::SandboxSpec& spec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(entry.mu);

  Hypervisor* const hv_;
  ImageCache* const images_;
  const WorkerConfig config_;
  std::unique_ptr<TemplateStore> template_store_;
  std::unique_ptr<NodeTemplates> templates_;
  BootGate boots_;
  absl::Mutex adopt_mu_;
  absl::Time last_adopt_ ABSL_GUARDED_BY(adopt_mu_) = absl::InfinitePast();
  std::set<std::string> unbacked_bridges_ ABSL_GUARDED_BY(adopt_mu_);  // seen by the last pass
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SANDBOX_SANDBOX_MANAGER_H_
