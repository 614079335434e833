// The seam between the worker's logic and a hypervisor. LibvirtHypervisor talks to libvirt;
// FakeHypervisor keeps the same state in memory for fast tests. Implementations are
// thread-safe: the worker calls them from several threads at once.
#ifndef LABRACK_WORKER_HYPERVISOR_HYPERVISOR_H_
#define LABRACK_WORKER_HYPERVISOR_HYPERVISOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "worker/hypervisor/types.h"

namespace labrack::worker {

// An open serial console of one domain. Not thread-safe except Close(), which may be called
// from any thread to wake a blocked Read().
class ConsoleStream {
 public:
  virtual ~ConsoleStream() = default;
  // Sends bytes to the guest. Unavailable when the console is gone.
  virtual absl::Status Write(absl::string_view data) = 0;
  // Bytes from the guest, blocking until some arrive. Empty at end of stream.
  virtual absl::StatusOr<std::string> Read() = 0;
  virtual void Close() = 0;
};

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;

  // A folder-backed storage pool; creates and starts it when absent. OK when it exists
  // with the same folder; FailedPrecondition when it exists with another.
  virtual absl::Status EnsurePool(const std::string& name, const std::string& dir) = 0;
  // Stops and removes a pool (its volumes must be gone). OK when absent.
  virtual absl::Status RemovePool(const std::string& name) = 0;

  // Defines and starts an isolated network. AlreadyExists when one of that name exists.
  virtual absl::Status CreateNetwork(const NetworkSpec& spec) = 0;
  // Stops and undefines a network. OK when absent.
  virtual absl::Status DestroyNetwork(const std::string& name) = 0;
  // Networks whose tag names `host_id`.
  virtual absl::StatusOr<std::vector<NetworkInfo>> ListNetworks(
      const std::string& host_id) = 0;
  // Host bridges named as labrack names them (IsBridgeName) that no network defined in
  // libvirt, of any host, uses: libvirt leaves them when it is killed while it starts or
  // stops a network. Bridges are listed before networks, so a network being made is never
  // taken for a leftover: libvirt defines it before it makes its bridge.
  virtual absl::StatusOr<std::vector<std::string>> ListUnbackedBridges() = 0;
  // Deletes a bridge named as labrack names them. OK when it is gone; InvalidArgument for
  // any other name.
  virtual absl::Status RemoveBridge(const std::string& name) = 0;

  // The sandbox's anti-spoofing (nft_port_filter.h): replaces its port filter on the host,
  // or makes it, at once, so that no frame passes between the old rules and the new. It
  // names taps, not devices: it may come before the guests exist. InvalidArgument (naming
  // the field) for an invalid spec; Internal, with the tool's error, when the host refuses.
  virtual absl::Status ApplyPortFilter(const PortFilterSpec& spec) = 0;
  // Removes the port filter of the sandbox whose id starts as `sandbox_id` does (its first
  // 8 characters name it). OK when there is none; Internal when the host refuses.
  virtual absl::Status RemovePortFilter(const std::string& sandbox_id) = 0;
  // The port filters present on the host, of every host id (like bridges, they are the
  // host's, not libvirt's). Internal when they cannot be read.
  virtual absl::StatusOr<std::vector<PortFilterInfo>> ListPortFilters() = 0;

  // Creates a volume and returns its path. AlreadyExists when the name is taken.
  virtual absl::StatusOr<std::string> CreateVolume(const VolumeSpec& spec) = 0;
  // Deletes a volume. OK when absent.
  virtual absl::Status DeleteVolume(const std::string& pool, const std::string& name) = 0;
  virtual absl::StatusOr<std::vector<VolumeInfo>> ListVolumes(const std::string& pool) = 0;

  // Defines a persistent domain (replacing the definition of a stopped one of that name).
  virtual absl::Status DefineDomain(const DomainSpec& spec) = 0;
  // Starts a defined domain. OK when already running.
  virtual absl::Status StartDomain(const std::string& name) = 0;
  // Stops a domain at once (power cut). OK when already stopped; NotFound when absent.
  virtual absl::Status StopDomain(const std::string& name) = 0;
  // Pauses / resumes a running domain's vCPUs.
  virtual absl::Status SuspendDomain(const std::string& name) = 0;
  virtual absl::Status ResumeDomain(const std::string& name) = 0;
  // Replaces a domain's labrack tag, in its running state and its definition alike.
  // NotFound when absent.
  virtual absl::Status SetDomainTag(const std::string& name, const ObjectTag& tag) = 0;
  // Stops and undefines a domain. OK when absent.
  virtual absl::Status DestroyDomain(const std::string& name) = 0;
  // Domains whose tag names `host_id`.
  virtual absl::StatusOr<std::vector<DomainInfo>> ListDomains(const std::string& host_id) = 0;
  // ListDomains and ListNetworks for the objects whose names begin with `name_prefix`
  // (e.g. one sandbox's "lr-<sandbox8>-"): only those are described, so that the cost
  // does not grow with everything else on the host.
  virtual absl::StatusOr<std::vector<DomainInfo>> ListDomainsNamed(
      const std::string& host_id, const std::string& name_prefix) = 0;
  virtual absl::StatusOr<std::vector<NetworkInfo>> ListNetworksNamed(
      const std::string& host_id, const std::string& name_prefix) = 0;
  virtual absl::StatusOr<DomainInfo> GetDomain(const std::string& name) = 0;

  // CPUs and memory of the host.
  virtual absl::StatusOr<HostResources> GetHostResources() = 0;

  // Memory states (templates; save_image.h). Saves a running domain's memory state to
  // `path` as a libvirt save image and stops it; it stays defined.
  virtual absl::Status SaveDomain(const std::string& name, const std::string& path) = 0;
  // Runs a defined, stopped domain from a save image whose XML is that domain's
  // definition (GetDomainDefinition): the guest goes on from where it was saved.
  virtual absl::Status RestoreDomain(const std::string& path) = 0;
  // A domain's persistent definition as the hypervisor holds it (with its UUID and the
  // device addresses it assigned), the XML a save image must carry to restore into it.
  virtual absl::StatusOr<std::string> GetDomainDefinition(const std::string& name) = 0;
  // The hypervisor and its version (e.g. "QEMU 7.2.0"): a memory state restores only
  // into the version that saved it.
  virtual absl::StatusOr<std::string> GetVersion() = 0;

  // Sends one command (a JSON object) to the guest agent of a running domain and returns
  // its JSON answer. Unavailable while the guest's agent is not connected;
  // DeadlineExceeded when it does not answer within `timeout`.
  virtual absl::StatusOr<std::string> AgentCommand(const std::string& name,
                                                   const std::string& command,
                                                   absl::Duration timeout) = 0;

  // Attaches to a running domain's serial console (taking it over from any other client).
  virtual absl::StatusOr<std::unique_ptr<ConsoleStream>> OpenConsole(
      const std::string& name) = 0;
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HYPERVISOR_HYPERVISOR_H_
