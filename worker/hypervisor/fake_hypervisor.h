// An in-memory Hypervisor for fast tests of worker logic. It keeps the same state libvirt
// would (pools, volumes, networks, domains with their tags, and the host's port filters) and, when asked, plays a guest
// that prints its readiness marker to the serial log on start. Its consoles echo what is
// written to them. Thread-safe, consoles included.
#ifndef LABRACK_WORKER_HYPERVISOR_FAKE_HYPERVISOR_H_
#define LABRACK_WORKER_HYPERVISOR_FAKE_HYPERVISOR_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "worker/hypervisor/hypervisor.h"

namespace labrack::worker {

class FakeHypervisor : public Hypervisor {
 public:
  // `ready_marker`: when not empty, StartDomain writes "<marker> node=<node>" to the
  // domain's serial log, as a booted tiny guest would.
  explicit FakeHypervisor(std::string ready_marker = "") : ready_marker_(std::move(ready_marker)) {}

  absl::Status EnsurePool(const std::string& name, const std::string& dir) override;
  absl::Status RemovePool(const std::string& name) override;
  absl::Status CreateNetwork(const NetworkSpec& spec) override;
  absl::Status DestroyNetwork(const std::string& name) override;
  absl::StatusOr<std::vector<NetworkInfo>> ListNetworks(const std::string& host_id) override;
  absl::StatusOr<std::vector<std::string>> ListUnbackedBridges() override;
  absl::Status RemoveBridge(const std::string& name) override;
  absl::Status ApplyPortFilter(const PortFilterSpec& spec) override;
  absl::Status RemovePortFilter(const std::string& sandbox_id) override;
  absl::StatusOr<std::vector<PortFilterInfo>> ListPortFilters() override;
  absl::StatusOr<std::string> CreateVolume(const VolumeSpec& spec) override;
  absl::Status DeleteVolume(const std::string& pool, const std::string& name) override;
  absl::StatusOr<std::vector<VolumeInfo>> ListVolumes(const std::string& pool) override;
  absl::Status DefineDomain(const DomainSpec& spec) override;
  absl::Status SetDomainTag(const std::string& name, const ObjectTag& tag) override;
  absl::Status StartDomain(const std::string& name) override;
  absl::Status StopDomain(const std::string& name) override;
  absl::Status SuspendDomain(const std::string& name) override;
  absl::Status ResumeDomain(const std::string& name) override;
  absl::Status DestroyDomain(const std::string& name) override;
  absl::StatusOr<std::vector<DomainInfo>> ListDomains(const std::string& host_id) override;
  absl::StatusOr<std::vector<DomainInfo>> ListDomainsNamed(const std::string& host_id,
                                                           const std::string& name_prefix) override;
  absl::StatusOr<std::vector<NetworkInfo>> ListNetworksNamed(const std::string& host_id,
                                                             const std::string& name_prefix) override;
  absl::StatusOr<DomainInfo> GetDomain(const std::string& name) override;
  // A console of a running domain that echoes back every byte written to it.
  absl::StatusOr<std::unique_ptr<ConsoleStream>> OpenConsole(const std::string& name) override;
  absl::StatusOr<HostResources> GetHostResources() override;
  // A save image in libvirt's format whose memory state is a line naming the domain.
  absl::Status SaveDomain(const std::string& name, const std::string& path) override;
  // Runs the domain the image's XML names (<name>), which must be defined and stopped;
  // the guest prints nothing new, as a restored guest is past its boot.
  absl::Status RestoreDomain(const std::string& path) override;
  // "<domain><name>NAME</name>...": the domain's XML as BuildDomainXml makes it.
  absl::StatusOr<std::string> GetDomainDefinition(const std::string& name) override;
  absl::StatusOr<std::string> GetVersion() override { return std::string("FAKE 1.0"); }
  // Answers as labrack-agent does (guest-file-open gives handle 1, guest-file-write the
  // count of its bytes, anything else {}), and records the command; Unavailable when the
  // domain is not running or agents are off (set_agents).
  absl::StatusOr<std::string> AgentCommand(const std::string& name, const std::string& command,
                                           absl::Duration timeout) override;
  void set_agents(bool on);
  // The agent commands a domain of this name received, in order.
  std::vector<std::string> agent_commands(const std::string& name) const;

  // Inspection for tests.
  absl::StatusOr<DomainSpec> DomainDefinition(const std::string& name) const;
  int domain_count() const;
  int network_count() const;
  int volume_count() const;
  // A bridge on the host that no network uses, as libvirtd killed while it stopped a
  // network leaves.
  void LeaveBridge(const std::string& bridge);
  bool HasBridge(const std::string& bridge) const;
  // The port filter ApplyPortFilter last made for the sandbox (by its first 8
  // characters); NotFound when there is none.
  absl::StatusOr<PortFilterSpec> PortFilter(const std::string& sandbox_id) const;
  int port_filter_count() const;
  // How many times StartDomain started a domain of this name, across redefinitions.
  int starts(const std::string& name) const;
  // How many times RestoreDomain ran a domain of this name.
  int restores(const std::string& name) const;

 private:
  struct Domain {
    DomainSpec spec;
    DomainState state = DomainState::kShutoff;
  };
  struct Volume {
    VolumeInfo info;
  };
  struct Pool {
    std::string dir;
    std::map<std::string, Volume> volumes;
  };

  const std::string ready_marker_;
  mutable absl::Mutex mu_;
  std::map<std::string, Pool> pools_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, NetworkSpec> networks_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> bridges_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, PortFilterSpec> port_filters_ ABSL_GUARDED_BY(mu_);  // by sandbox8
  std::map<std::string, Domain> domains_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> starts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> restores_ ABSL_GUARDED_BY(mu_);
  bool agents_ ABSL_GUARDED_BY(mu_) = true;
  std::map<std::string, std::vector<std::string>> agent_commands_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HYPERVISOR_FAKE_HYPERVISOR_H_
