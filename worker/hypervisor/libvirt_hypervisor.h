// Hypervisor implemented with the libvirt C API (qemu:///system on hosts, test:///default
// in tests). One connection shared by all threads; libvirt's client is thread-safe.
#ifndef LABRACK_WORKER_HYPERVISOR_LIBVIRT_HYPERVISOR_H_
#define LABRACK_WORKER_HYPERVISOR_LIBVIRT_HYPERVISOR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "worker/hypervisor/hypervisor.h"
#include "worker/hypervisor/libvirt_handles.h"

namespace labrack::worker {

class LibvirtHypervisor : public Hypervisor {
 public:
  // Connects to `uri` with keepalive on. Unavailable when libvirtd cannot be reached.
  // When libvirtd goes away later (killed, restarted), the next call connects again; calls
  // fail with Unavailable while it is down. Guests, networks and pools outlive libvirtd.
  static absl::StatusOr<std::unique_ptr<LibvirtHypervisor>> Connect(const std::string& uri);

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
  absl::StatusOr<std::unique_ptr<ConsoleStream>> OpenConsole(const std::string& name) override;
  absl::Status SaveDomain(const std::string& name, const std::string& path) override;
  absl::Status RestoreDomain(const std::string& path) override;
  absl::StatusOr<std::string> GetDomainDefinition(const std::string& name) override;
  absl::StatusOr<std::string> GetVersion() override;
  absl::StatusOr<std::string> AgentCommand(const std::string& name, const std::string& command,
                                           absl::Duration timeout) override;
  absl::StatusOr<HostResources> GetHostResources() override;

  // Whether the host's hypervisor offers domain type kvm at all (the capability, not
  // whether a guest really runs: see domain_type_probe.h).
  absl::StatusOr<bool> KvmAdvertised();

 private:
  LibvirtHypervisor(std::string uri, ConnectHandle conn, bool seal_bridges)
      : uri_(std::move(uri)), conn_(std::move(conn)), seal_bridges_(seal_bridges) {}

  // The connection of the calling thread's CallSlot.
  static virConnectPtr conn();
  // A reference (virConnectRef) to a live connection: the current one, or a new one when
  // libvirtd went away since (it was restarted or killed). Unavailable while it is down.
  absl::StatusOr<virConnectPtr> AcquireConnection();

  absl::StatusOr<DomainHandle> LookupDomain(const std::string& name);
  absl::StatusOr<NetworkHandle> LookupNetwork(const std::string& name);
  // Every network libvirt has, of any host. Needs the caller's CallSlot.
  absl::StatusOr<std::vector<NetworkHandle>> AllNetworks();
  absl::StatusOr<PoolHandle> LookupPool(const std::string& name);
  absl::StatusOr<DomainInfo> DescribeDomain(virDomainPtr dom);

  // Bounds calls in flight on the connection: libvirtd stops reading a client that has
  // more than max_client_requests (default 5) outstanding, keepalive answers included, and
  // then drops it.
  class CallSlot;
  absl::Mutex slots_mu_;
  int slots_free_ ABSL_GUARDED_BY(slots_mu_) = 4;

  const std::string uri_;
  absl::Mutex conn_mu_;
  ConnectHandle conn_ ABSL_GUARDED_BY(conn_mu_);
  // Whether networks have bridges on this host, to seal when made and to make sure of
  // their end when removed (bridge_isolation.h), and guests have taps to filter
  // (nft_port_filter.h): always but on libvirt's test driver.
  const bool seal_bridges_;
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HYPERVISOR_LIBVIRT_HYPERVISOR_H_
