#include "worker/hypervisor/fake_hypervisor.h"

#include <cstdio>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file_range.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "worker/hypervisor/nft_port_filter.h"
#include "worker/hypervisor/save_image.h"
#include "worker/xml/domain_xml.h"

namespace labrack::worker {
namespace {

// A guest that echoes every byte written to its console. Read() blocks until bytes are
// written or Close() is called; after Close() it returns what is left, then empty.
class FakeConsole : public ConsoleStream {
 public:
  absl::Status Write(absl::string_view data) override {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::UnavailableError("console is closed");
    echo_.append(data.data(), data.size());
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Read() override {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](FakeConsole* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
          return !c->echo_.empty() || c->closed_;
        },
        this));
    return std::exchange(echo_, {});
  }
  void Close() override {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

 private:
  absl::Mutex mu_;
  std::string echo_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

absl::Status NoDomain(const std::string& name) {
  return absl::NotFoundError(absl::StrCat("look up domain ", name, ": no such domain"));
}

}  // namespace

absl::Status FakeHypervisor::EnsurePool(const std::string& name, const std::string& dir) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = pools_.try_emplace(name, Pool{dir, {}});
  if (!inserted && it->second.dir != dir) {
    return absl::FailedPreconditionError(
        absl::StrCat("storage pool ", name, " exists with folder ", it->second.dir));
  }
  return absl::OkStatus();
}

absl::Status FakeHypervisor::RemovePool(const std::string& name) {
  absl::MutexLock lock(&mu_);
  pools_.erase(name);
  return absl::OkStatus();
}

absl::Status FakeHypervisor::CreateNetwork(const NetworkSpec& spec) {
  absl::MutexLock lock(&mu_);
  if (!networks_.try_emplace(spec.name, spec).second) {
    return absl::AlreadyExistsError(absl::StrCat("network ", spec.name, " exists"));
  }
  bridges_.insert(spec.bridge);
  return absl::OkStatus();
}

absl::Status FakeHypervisor::DestroyNetwork(const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (auto it = networks_.find(name); it != networks_.end()) {
    bridges_.erase(it->second.bridge);
    networks_.erase(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FakeHypervisor::ListUnbackedBridges() {
  absl::MutexLock lock(&mu_);
  std::set<std::string> backed;
  for (const auto& [name, spec] : networks_) backed.insert(spec.bridge);
  std::vector<std::string> out;
  for (const std::string& b : bridges_) {
    if (IsBridgeName(b) && !backed.contains(b)) out.push_back(b);
  }
  return out;
}

absl::Status FakeHypervisor::RemoveBridge(const std::string& name) {
  if (absl::Status s = ValidateBridgeName("bridge", name); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  bridges_.erase(name);
  return absl::OkStatus();
}

void FakeHypervisor::LeaveBridge(const std::string& bridge) {
  absl::MutexLock lock(&mu_);
  bridges_.insert(bridge);
}

bool FakeHypervisor::HasBridge(const std::string& bridge) const {
  absl::MutexLock lock(&mu_);
  return bridges_.contains(bridge);
}

absl::Status FakeHypervisor::ApplyPortFilter(const PortFilterSpec& spec) {
  // The same validation as the host's, so that fast tests catch a bad spec too.
  if (absl::StatusOr<std::string> script = BuildPortFilterScript(spec); !script.ok()) {
    return script.status();
  }
  absl::MutexLock lock(&mu_);
  port_filters_[Sandbox8(spec.sandbox_id)] = spec;
  return absl::OkStatus();
}

absl::Status FakeHypervisor::RemovePortFilter(const std::string& sandbox_id) {
  if (absl::Status s = ValidateSandboxId("sandbox_id", sandbox_id); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  port_filters_.erase(Sandbox8(sandbox_id));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PortFilterInfo>> FakeHypervisor::ListPortFilters() {
  absl::MutexLock lock(&mu_);
  std::vector<PortFilterInfo> out;
  for (const auto& [s8, spec] : port_filters_) out.push_back({s8, spec.sandbox_id, spec.host_id});
  return out;
}

absl::StatusOr<PortFilterSpec> FakeHypervisor::PortFilter(const std::string& sandbox_id) const {
  absl::MutexLock lock(&mu_);
  auto it = port_filters_.find(Sandbox8(sandbox_id));
  if (it == port_filters_.end()) {
    return absl::NotFoundError(absl::StrCat("no port filter for sandbox ", sandbox_id));
  }
  return it->second;
}

int FakeHypervisor::port_filter_count() const {
  absl::MutexLock lock(&mu_);
  return port_filters_.size();
}

absl::StatusOr<std::vector<NetworkInfo>> FakeHypervisor::ListNetworks(
    const std::string& host_id) {
  absl::MutexLock lock(&mu_);
  std::vector<NetworkInfo> out;
  for (const auto& [name, spec] : networks_) {
    if (spec.tag.host_id == host_id) out.push_back({name, spec.bridge, true, spec.tag});
  }
  return out;
}

absl::StatusOr<std::string> FakeHypervisor::CreateVolume(const VolumeSpec& spec) {
  absl::MutexLock lock(&mu_);
  auto pool = pools_.find(spec.pool);
  if (pool == pools_.end()) return absl::NotFoundError(absl::StrCat("no pool ", spec.pool));
  std::string path = absl::StrCat(pool->second.dir, "/", spec.name);
  Volume vol{{spec.name, path, spec.capacity_bytes, 0}};
  if (!pool->second.volumes.try_emplace(spec.name, vol).second) {
    return absl::AlreadyExistsError(absl::StrCat("volume ", spec.name, " exists"));
  }
  // A small file where libvirt would put the volume, so that code reading volumes (e.g.
  // evidence) has bytes to read; folders that do not exist are left alone.
  std::ofstream(path, std::ios::trunc) << "fake volume " << spec.name << "\n";
  if (!spec.content_from.empty()) {
    if (std::ifstream(spec.content_from).fail()) {
      pool->second.volumes.erase(spec.name);
      return absl::NotFoundError(absl::StrCat("open ", spec.content_from, ": no such file"));
    }
    CopyFileContents(spec.content_from, path).IgnoreError();  // the pool folder may not exist
  }
  return path;
}

absl::Status FakeHypervisor::DeleteVolume(const std::string& pool, const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = pools_.find(pool);
  if (it == pools_.end()) return absl::NotFoundError(absl::StrCat("no pool ", pool));
  auto vol = it->second.volumes.find(name);
  if (vol != it->second.volumes.end()) {
    std::remove(vol->second.info.path.c_str());
    it->second.volumes.erase(vol);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<VolumeInfo>> FakeHypervisor::ListVolumes(const std::string& pool) {
  absl::MutexLock lock(&mu_);
  auto it = pools_.find(pool);
  if (it == pools_.end()) return absl::NotFoundError(absl::StrCat("no pool ", pool));
  std::vector<VolumeInfo> out;
  for (const auto& [name, vol] : it->second.volumes) out.push_back(vol.info);
  return out;
}

absl::Status FakeHypervisor::DefineDomain(const DomainSpec& spec) {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(spec.name);
  if (it == domains_.end()) {
    domains_.emplace(spec.name, Domain{spec});
    return absl::OkStatus();
  }
  if (it->second.state != DomainState::kShutoff) {
    return absl::FailedPreconditionError(absl::StrCat("domain ", spec.name, " is running"));
  }
  it->second.spec = spec;
  return absl::OkStatus();
}

absl::Status FakeHypervisor::SetDomainTag(const std::string& name, const ObjectTag& tag) {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  it->second.spec.tag = tag;
  return absl::OkStatus();
}

absl::Status FakeHypervisor::StartDomain(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  if (it->second.state == DomainState::kRunning) return absl::OkStatus();
  it->second.state = DomainState::kRunning;
  ++starts_[name];
  const DomainSpec& spec = it->second.spec;
  if (!spec.serial_log.empty()) {
    std::ofstream log(spec.serial_log, std::ios::trunc);
    if (!ready_marker_.empty()) log << "booting\r\n" << ready_marker_ << " node=" << spec.tag.node << "\r\n";
  }
  return absl::OkStatus();
}

absl::Status FakeHypervisor::StopDomain(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  it->second.state = DomainState::kShutoff;
  return absl::OkStatus();
}

absl::Status FakeHypervisor::SuspendDomain(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  if (it->second.state != DomainState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("domain ", name, " is not running"));
  }
  it->second.state = DomainState::kPaused;
  return absl::OkStatus();
}

absl::Status FakeHypervisor::ResumeDomain(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  if (it->second.state != DomainState::kPaused) {
    return absl::FailedPreconditionError(absl::StrCat("domain ", name, " is not paused"));
  }
  it->second.state = DomainState::kRunning;
  return absl::OkStatus();
}

absl::Status FakeHypervisor::DestroyDomain(const std::string& name) {
  absl::MutexLock lock(&mu_);
  domains_.erase(name);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DomainInfo>> FakeHypervisor::ListDomains(const std::string& host_id) {
  absl::MutexLock lock(&mu_);
  std::vector<DomainInfo> out;
  for (const auto& [name, dom] : domains_) {
    if (dom.spec.tag.host_id == host_id) out.push_back({name, dom.state, dom.spec.tag});
  }
  return out;
}

absl::StatusOr<std::vector<DomainInfo>> FakeHypervisor::ListDomainsNamed(
    const std::string& host_id, const std::string& name_prefix) {
  ASSIGN_OR_RETURN(std::vector<DomainInfo> all, ListDomains(host_id));
  std::erase_if(all, [&](const DomainInfo& d) { return !absl::StartsWith(d.name, name_prefix); });
  return all;
}

absl::StatusOr<std::vector<NetworkInfo>> FakeHypervisor::ListNetworksNamed(
    const std::string& host_id, const std::string& name_prefix) {
  ASSIGN_OR_RETURN(std::vector<NetworkInfo> all, ListNetworks(host_id));
  std::erase_if(all, [&](const NetworkInfo& n) { return !absl::StartsWith(n.name, name_prefix); });
  return all;
}

absl::StatusOr<DomainInfo> FakeHypervisor::GetDomain(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  return DomainInfo{name, it->second.state, it->second.spec.tag};
}

absl::StatusOr<std::unique_ptr<ConsoleStream>> FakeHypervisor::OpenConsole(
    const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  if (it->second.state != DomainState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("domain ", name, " is not running"));
  }
  return std::unique_ptr<ConsoleStream>(new FakeConsole());
}

absl::StatusOr<HostResources> FakeHypervisor::GetHostResources() {
  return HostResources{2, 24 * 1024};
}

absl::Status FakeHypervisor::SaveDomain(const std::string& name, const std::string& path) {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  if (it->second.state != DomainState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("domain ", name, " is not running"));
  }
  SaveImageHeader header;
  header.was_running = true;
  header.domain_xml = BuildDomainXml(it->second.spec);
  header.cookie = "<cookie/>";
  RETURN_IF_ERROR(WriteSaveImage(path, header, absl::StrCat("memory of ", name, "\n")));
  it->second.state = DomainState::kShutoff;
  return absl::OkStatus();
}

absl::Status FakeHypervisor::RestoreDomain(const std::string& path) {
  ASSIGN_OR_RETURN(SaveImageHeader header, ReadSaveImageHeader(path));
  const std::string& xml = header.domain_xml;
  size_t begin = xml.find("<name>");
  size_t end = xml.find("</name>");
  if (begin == std::string::npos || end == std::string::npos || end < begin) {
    return absl::InvalidArgumentError(absl::StrCat("restore ", path, ": no domain name in its XML"));
  }
  std::string name = xml.substr(begin + 6, end - begin - 6);
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  if (it->second.state != DomainState::kShutoff) {
    return absl::FailedPreconditionError(absl::StrCat("domain ", name, " is already active"));
  }
  it->second.state = DomainState::kRunning;
  ++restores_[name];
  if (!it->second.spec.serial_log.empty()) std::ofstream(it->second.spec.serial_log, std::ios::trunc);
  return absl::OkStatus();
}

absl::StatusOr<std::string> FakeHypervisor::GetDomainDefinition(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  return BuildDomainXml(it->second.spec);
}

absl::StatusOr<std::string> FakeHypervisor::AgentCommand(const std::string& name,
                                                         const std::string& command,
                                                         absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  if (!agents_ || it->second.state != DomainState::kRunning) {
    return absl::UnavailableError(absl::StrCat("guest agent of domain ", name, " is not connected"));
  }
  agent_commands_[name].push_back(command);
  if (command.find("\"guest-file-open\"") != std::string::npos) return std::string("{\"return\":1}");
  if (command.find("\"guest-file-write\"") != std::string::npos) {
    return std::string("{\"return\":{\"count\":64,\"eof\":false}}");
  }
  return std::string("{\"return\":{}}");
}

void FakeHypervisor::set_agents(bool on) {
  absl::MutexLock lock(&mu_);
  agents_ = on;
}

std::vector<std::string> FakeHypervisor::agent_commands(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = agent_commands_.find(name);
  return it == agent_commands_.end() ? std::vector<std::string>{} : it->second;
}

int FakeHypervisor::restores(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = restores_.find(name);
  return it == restores_.end() ? 0 : it->second;
}

absl::StatusOr<DomainSpec> FakeHypervisor::DomainDefinition(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return NoDomain(name);
  return it->second.spec;
}

int FakeHypervisor::domain_count() const {
  absl::MutexLock lock(&mu_);
  return domains_.size();
}

int FakeHypervisor::network_count() const {
  absl::MutexLock lock(&mu_);
  return networks_.size();
}

int FakeHypervisor::volume_count() const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& [name, pool] : pools_) n += pool.volumes.size();
  return n;
}

int FakeHypervisor::starts(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = starts_.find(name);
  return it == starts_.end() ? 0 : it->second;
}

}  // namespace labrack::worker
