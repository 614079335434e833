// A Hypervisor that forwards every call to another one. Tests subclass it and override one
// method to make that call fail, as LevelDB's fault-injection Env does. Thread-safe if the
// target is.
#ifndef LABRACK_WORKER_HYPERVISOR_FORWARDING_HYPERVISOR_H_
#define LABRACK_WORKER_HYPERVISOR_FORWARDING_HYPERVISOR_H_

#include "worker/hypervisor/hypervisor.h"

namespace labrack::worker {

class ForwardingHypervisor : public Hypervisor {
 public:
  explicit ForwardingHypervisor(Hypervisor* target) : target_(target) {}

  absl::Status EnsurePool(const std::string& name, const std::string& dir) override {
    return target_->EnsurePool(name, dir);
  }
  absl::Status RemovePool(const std::string& name) override { return target_->RemovePool(name); }
  absl::Status CreateNetwork(const NetworkSpec& spec) override {
    return target_->CreateNetwork(spec);
  }
  absl::Status DestroyNetwork(const std::string& name) override {
    return target_->DestroyNetwork(name);
  }
  absl::StatusOr<std::vector<NetworkInfo>> ListNetworks(const std::string& host_id) override {
    return target_->ListNetworks(host_id);
  }
  absl::StatusOr<std::vector<std::string>> ListUnbackedBridges() override {
    return target_->ListUnbackedBridges();
  }
  absl::Status RemoveBridge(const std::string& name) override { return target_->RemoveBridge(name); }
  absl::Status ApplyPortFilter(const PortFilterSpec& spec) override {
    return target_->ApplyPortFilter(spec);
  }
  absl::Status RemovePortFilter(const std::string& sandbox_id) override {
    return target_->RemovePortFilter(sandbox_id);
  }
  absl::StatusOr<std::vector<PortFilterInfo>> ListPortFilters() override {
    return target_->ListPortFilters();
  }
  absl::StatusOr<std::string> CreateVolume(const VolumeSpec& spec) override {
    return target_->CreateVolume(spec);
  }
  absl::Status DeleteVolume(const std::string& pool, const std::string& name) override {
    return target_->DeleteVolume(pool, name);
  }
  absl::StatusOr<std::vector<VolumeInfo>> ListVolumes(const std::string& pool) override {
    return target_->ListVolumes(pool);
  }
  absl::Status DefineDomain(const DomainSpec& spec) override { return target_->DefineDomain(spec); }
  absl::Status SetDomainTag(const std::string& name, const ObjectTag& tag) override {
    return target_->SetDomainTag(name, tag);
  }
  absl::Status StartDomain(const std::string& name) override { return target_->StartDomain(name); }
  absl::Status StopDomain(const std::string& name) override { return target_->StopDomain(name); }
  absl::Status SuspendDomain(const std::string& name) override {
    return target_->SuspendDomain(name);
  }
  absl::Status ResumeDomain(const std::string& name) override {
    return target_->ResumeDomain(name);
  }
  absl::Status DestroyDomain(const std::string& name) override {
    return target_->DestroyDomain(name);
  }
  absl::StatusOr<std::vector<DomainInfo>> ListDomains(const std::string& host_id) override {
    return target_->ListDomains(host_id);
  }
  absl::StatusOr<std::vector<DomainInfo>> ListDomainsNamed(const std::string& host_id,
                                                           const std::string& prefix) override {
    return target_->ListDomainsNamed(host_id, prefix);
  }
  absl::StatusOr<std::vector<NetworkInfo>> ListNetworksNamed(const std::string& host_id,
                                                             const std::string& prefix) override {
    return target_->ListNetworksNamed(host_id, prefix);
  }
  absl::StatusOr<DomainInfo> GetDomain(const std::string& name) override {
    return target_->GetDomain(name);
  }
  absl::StatusOr<HostResources> GetHostResources() override {
    return target_->GetHostResources();
  }
  absl::Status SaveDomain(const std::string& name, const std::string& path) override {
    return target_->SaveDomain(name, path);
  }
  absl::Status RestoreDomain(const std::string& path) override { return target_->RestoreDomain(path); }
  absl::StatusOr<std::string> GetDomainDefinition(const std::string& name) override {
    return target_->GetDomainDefinition(name);
  }
  absl::StatusOr<std::string> GetVersion() override { return target_->GetVersion(); }
  absl::StatusOr<std::string> AgentCommand(const std::string& name, const std::string& command,
                                           absl::Duration timeout) override {
    return target_->AgentCommand(name, command, timeout);
  }
  absl::StatusOr<std::unique_ptr<ConsoleStream>> OpenConsole(const std::string& name) override {
    return target_->OpenConsole(name);
  }

 private:
  Hypervisor* target_;
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HYPERVISOR_FORWARDING_HYPERVISOR_H_
