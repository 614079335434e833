#include "worker/hypervisor/libvirt_hypervisor.h"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pugixml.hpp"
#include "common/file_range.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "worker/hypervisor/bridge_isolation.h"
#include "worker/hypervisor/libvirt_console.h"
#include "worker/hypervisor/libvirt_error.h"
#include "worker/hypervisor/nft_port_filter.h"
#include "worker/host/host_command.h"
#include "worker/xml/domain_xml.h"
#include "worker/xml/metadata_xml.h"
#include "worker/xml/network_xml.h"
#include "worker/xml/storage_xml.h"

namespace labrack::worker {
namespace {

// A dead libvirtd is noticed after about interval * (count + 1) seconds.
constexpr int kKeepAliveIntervalSeconds = 5;
constexpr int kKeepAliveCount = 3;
// How often ListVolumes tries a pool refresh that libvirt refuses while a volume is made
// (about 4.5 s in all).
constexpr int kPoolRefreshAttempts = 10;
// One nft transaction takes milliseconds; a host that needs more is in trouble.
constexpr absl::Duration kNftTimeout = absl::Seconds(20);


DomainState StateFromLibvirt(int state, int reason) {
  switch (state) {
    case VIR_DOMAIN_RUNNING:
      return DomainState::kRunning;
    case VIR_DOMAIN_PAUSED:
      return reason == VIR_DOMAIN_PAUSED_STARTING_UP ? DomainState::kStarting : DomainState::kPaused;
    case VIR_DOMAIN_SHUTOFF:
      return DomainState::kShutoff;
    case VIR_DOMAIN_CRASHED:
      return DomainState::kCrashed;
    default:
      return DomainState::kOther;
  }
}

// Kills the qemu of a running domain of qemu:///system with SIGKILL: virDomainDestroy asks
// it to exit with SIGTERM and looks again only after 200 ms, and a guest being thrown away
// (destroy, reset, power cut) has nothing to flush. Best effort: anything unexpected
// (another driver, a pid file naming another program) leaves it to virDomainDestroy.
void KillQemu(const std::string& name) {
  std::ifstream pid_file(absl::StrCat("/run/libvirt/qemu/", name, ".pid"));
  pid_t pid = 0;
  if (!(pid_file >> pid) || pid <= 1) return;
  std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
  std::string program;
  if (!std::getline(comm, program) || !absl::StartsWith(program, "qemu-system")) return;
  kill(pid, SIGKILL);
}

// Stops a domain at once; one that is not running (or stopped by itself between the check
// and the call) is fine. `kill_first`: KillQemu before libvirt tidies up.
absl::Status PowerOff(virDomainPtr dom, const std::string& name, bool kill_first) {
  if (virDomainIsActive(dom) != 1) return absl::OkStatus();
  if (kill_first) KillQemu(name);
  if (virDomainDestroy(dom) < 0) {
    absl::Status s = LastLibvirtError(absl::StrCat("stop domain ", name));
    if (!absl::IsFailedPrecondition(s)) return s;
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// The connection each thread's current CallSlot holds.
thread_local virConnectPtr current_conn = nullptr;

// A connection to `uri` with keepalive on; Unavailable when libvirtd cannot be reached.
absl::StatusOr<ConnectHandle> Open(const std::string& uri) {
  ConnectHandle conn(virConnectOpen(uri.c_str()));
  if (!conn) {
    absl::Status s = LastLibvirtError(absl::StrCat("connect to ", uri));
    return absl::UnavailableError(s.message());
  }
  // The test driver has no keepalive; a failure here is not an error.
  if (virConnectSetKeepAlive(conn.get(), kKeepAliveIntervalSeconds, kKeepAliveCount) < 0) {
    virResetLastError();
  }
  return conn;
}

}  // namespace

// Holds one of the connection's call slots, and a live connection, for its lifetime. Each
// call returns status() first: Unavailable while libvirtd cannot be reached.
class LibvirtHypervisor::CallSlot {
 public:
  explicit CallSlot(LibvirtHypervisor* hv) : hv_(hv), previous_(current_conn) {
    {
      absl::MutexLock lock(&hv_->slots_mu_);
      hv_->slots_mu_.Await(absl::Condition(
          +[](int* free) { return *free > 0; }, &hv_->slots_free_));
      --hv_->slots_free_;
    }
    absl::StatusOr<virConnectPtr> conn = hv_->AcquireConnection();
    conn_ = conn.ok() ? *conn : nullptr;
    status_ = conn.status();
    current_conn = conn_;
  }
  // Unavailable when libvirtd could not be reached.
  const absl::Status& status() const { return status_; }
  ~CallSlot() {
    current_conn = previous_;
    if (conn_ != nullptr) virConnectClose(conn_);
    absl::MutexLock lock(&hv_->slots_mu_);
    ++hv_->slots_free_;
  }

 private:
  LibvirtHypervisor* hv_;
  virConnectPtr previous_;
  virConnectPtr conn_ = nullptr;
  absl::Status status_;
};

virConnectPtr LibvirtHypervisor::conn() { return current_conn; }

absl::StatusOr<virConnectPtr> LibvirtHypervisor::AcquireConnection() {
  absl::MutexLock lock(&conn_mu_);
  if (!conn_ || virConnectIsAlive(conn_.get()) != 1) {
    virResetLastError();
    // Calls still holding the dead one keep their own reference until they end.
    ASSIGN_OR_RETURN(ConnectHandle fresh, Open(uri_));
    conn_ = std::move(fresh);
  }
  if (virConnectRef(conn_.get()) < 0) return LastLibvirtError("reference the libvirt connection");
  return conn_.get();
}

absl::StatusOr<std::unique_ptr<LibvirtHypervisor>> LibvirtHypervisor::Connect(
    const std::string& uri) {
  InitLibvirtOnce();
  ASSIGN_OR_RETURN(ConnectHandle conn, Open(uri));
  const char* type = virConnectGetType(conn.get());
  const bool test_driver = type != nullptr && std::string(type) == "TEST";
  return std::unique_ptr<LibvirtHypervisor>(
      new LibvirtHypervisor(uri, std::move(conn), !test_driver));
}

absl::StatusOr<DomainHandle> LibvirtHypervisor::LookupDomain(const std::string& name) {
  DomainHandle dom(virDomainLookupByName(conn(), name.c_str()));
  if (!dom) return LastLibvirtError(absl::StrCat("look up domain ", name));
  return dom;
}

absl::StatusOr<NetworkHandle> LibvirtHypervisor::LookupNetwork(const std::string& name) {
  NetworkHandle net(virNetworkLookupByName(conn(), name.c_str()));
  if (!net) return LastLibvirtError(absl::StrCat("look up network ", name));
  return net;
}

absl::StatusOr<PoolHandle> LibvirtHypervisor::LookupPool(const std::string& name) {
  PoolHandle pool(virStoragePoolLookupByName(conn(), name.c_str()));
  if (!pool) return LastLibvirtError(absl::StrCat("look up storage pool ", name));
  return pool;
}

// ---- storage pools and volumes ----

absl::Status LibvirtHypervisor::EnsurePool(const std::string& name, const std::string& dir) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  absl::StatusOr<PoolHandle> pool = LookupPool(name);
  if (pool.ok()) {
    CString xml(virStoragePoolGetXMLDesc(pool->get(), 0));
    if (!xml) return LastLibvirtError(absl::StrCat("describe storage pool ", name));
    ASSIGN_OR_RETURN(std::string path, ParsePoolTargetPath(xml.get()));
    if (path != dir) {
      return absl::FailedPreconditionError(absl::StrCat(
          "storage pool ", name, " exists with folder ", path, ", not ", dir));
    }
  } else if (absl::IsNotFound(pool.status())) {
    std::string xml = BuildPoolXml(name, dir);
    pool = PoolHandle(virStoragePoolDefineXML(conn(), xml.c_str(), 0));
    if (!*pool) return LastLibvirtError(absl::StrCat("define storage pool ", name));
  } else {
    return pool.status();
  }
  int active = virStoragePoolIsActive(pool->get());
  if (active == 1) return absl::OkStatus();
  if (virStoragePoolCreate(pool->get(), 0) < 0) {
    return LastLibvirtError(absl::StrCat("start storage pool ", name));
  }
  return absl::OkStatus();
}

absl::Status LibvirtHypervisor::RemovePool(const std::string& name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  absl::StatusOr<PoolHandle> pool = LookupPool(name);
  if (absl::IsNotFound(pool.status())) return absl::OkStatus();
  if (!pool.ok()) return pool.status();
  if (virStoragePoolIsActive(pool->get()) == 1 && virStoragePoolDestroy(pool->get()) < 0) {
    return LastLibvirtError(absl::StrCat("stop storage pool ", name));
  }
  if (virStoragePoolUndefine(pool->get()) < 0) {
    return LastLibvirtError(absl::StrCat("undefine storage pool ", name));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LibvirtHypervisor::CreateVolume(const VolumeSpec& spec) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(PoolHandle pool, LookupPool(spec.pool));
  // libvirt reports a taken name as a generic failure; ask first to tell callers apart.
  if (VolumeHandle taken(virStorageVolLookupByName(pool.get(), spec.name.c_str())); taken) {
    return absl::AlreadyExistsError(absl::StrCat("volume ", spec.name, " exists in ", spec.pool));
  }
  virResetLastError();
  std::string xml = BuildVolumeXml(spec);
  VolumeHandle vol(virStorageVolCreateXML(pool.get(), xml.c_str(), 0));
  if (!vol) {
    return LastLibvirtError(absl::StrCat("create volume ", spec.name, " in ", spec.pool));
  }
  CString path(virStorageVolGetPath(vol.get()));
  if (!path) return LastLibvirtError(absl::StrCat("path of volume ", spec.name));
  if (!spec.content_from.empty()) {
    absl::Status copied = CopyFileContents(spec.content_from, path.get());
    if (!copied.ok()) {
      virStorageVolDelete(vol.get(), 0);
      return copied;
    }
  }
  return std::string(path.get());
}

absl::Status LibvirtHypervisor::DeleteVolume(const std::string& pool_name,
                                             const std::string& name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(PoolHandle pool, LookupPool(pool_name));
  VolumeHandle vol(virStorageVolLookupByName(pool.get(), name.c_str()));
  if (!vol) {
    absl::Status s = LastLibvirtError(absl::StrCat("look up volume ", name));
    return absl::IsNotFound(s) ? absl::OkStatus() : s;
  }
  if (virStorageVolDelete(vol.get(), 0) < 0) {
    absl::Status s = LastLibvirtError(absl::StrCat("delete volume ", name));
    return absl::IsNotFound(s) ? absl::OkStatus() : s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<VolumeInfo>> LibvirtHypervisor::ListVolumes(
    const std::string& pool_name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(PoolHandle pool, LookupPool(pool_name));
  // Files may have appeared or vanished behind libvirt's back (e.g. after a crash). libvirt
  // refuses to refresh while a volume of the pool is being created: wait that out.
  for (int attempt = 1; virStoragePoolRefresh(pool.get(), 0) < 0; ++attempt) {
    absl::Status refused = LastLibvirtError(absl::StrCat("refresh storage pool ", pool_name));
    if (attempt >= kPoolRefreshAttempts ||
        !absl::StrContains(refused.message(), "asynchronous jobs running")) {
      return refused;
    }
    absl::SleepFor(absl::Milliseconds(100) * attempt);
  }
  virStorageVolPtr* vols = nullptr;
  int n = virStoragePoolListAllVolumes(pool.get(), &vols, 0);
  if (n < 0) return LastLibvirtError(absl::StrCat("list volumes of ", pool_name));
  std::vector<VolumeHandle> owned(vols, vols + n);
  free(vols);
  std::vector<VolumeInfo> out;
  for (const VolumeHandle& vol : owned) {
    VolumeInfo info;
    info.name = virStorageVolGetName(vol.get());
    CString path(virStorageVolGetPath(vol.get()));
    if (path) info.path = path.get();
    virStorageVolInfo vi;
    if (virStorageVolGetInfo(vol.get(), &vi) == 0) {
      info.capacity_bytes = vi.capacity;
      info.allocation_bytes = vi.allocation;
    }
    out.push_back(std::move(info));
  }
  virResetLastError();
  return out;
}

// ---- networks ----

absl::Status LibvirtHypervisor::CreateNetwork(const NetworkSpec& spec) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  // libvirt reports a taken name as a generic failure; ask first to tell callers apart.
  if (NetworkHandle taken(virNetworkLookupByName(conn(), spec.name.c_str())); taken) {
    return absl::AlreadyExistsError(absl::StrCat("network ", spec.name, " exists"));
  }
  virResetLastError();
  std::string xml = BuildNetworkXml(spec);
  NetworkHandle net(virNetworkDefineXML(conn(), xml.c_str()));
  if (!net) return LastLibvirtError(absl::StrCat("define network ", spec.name));
  if (virNetworkCreate(net.get()) < 0) {
    absl::Status s = LastLibvirtError(absl::StrCat("start network ", spec.name));
    virNetworkUndefine(net.get());
    return s;
  }
  // Before any guest is plugged in: a network the host can be reached through is not kept.
  if (absl::Status sealed = seal_bridges_ ? SealBridgeFromHost(spec.bridge) : absl::OkStatus();
      !sealed.ok()) {
    virNetworkDestroy(net.get());
    virNetworkUndefine(net.get());
    return sealed;
  }
  return absl::OkStatus();
}

absl::Status LibvirtHypervisor::DestroyNetwork(const std::string& name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  absl::StatusOr<NetworkHandle> net = LookupNetwork(name);
  if (absl::IsNotFound(net.status())) return absl::OkStatus();
  if (!net.ok()) return net.status();
  std::string bridge;
  if (CString xml(virNetworkGetXMLDesc(net->get(), 0)); xml) {
    if (absl::StatusOr<NetworkInfo> info = ParseNetworkXml(xml.get()); info.ok()) bridge = info->bridge;
  }
  if (virNetworkIsActive(net->get()) == 1 && virNetworkDestroy(net->get()) < 0) {
    absl::Status s = LastLibvirtError(absl::StrCat("stop network ", name));
    if (!absl::IsNotFound(s)) return s;
  }
  if (virNetworkIsPersistent(net->get()) == 1 && virNetworkUndefine(net->get()) < 0) {
    absl::Status s = LastLibvirtError(absl::StrCat("undefine network ", name));
    if (!absl::IsNotFound(s)) return s;
  }
  // A network whose libvirtd died while starting it is inactive, yet its bridge exists.
  return seal_bridges_ ? RemoveLeftoverBridge(bridge) : absl::OkStatus();
}

absl::StatusOr<std::vector<NetworkHandle>> LibvirtHypervisor::AllNetworks() {
  virNetworkPtr* nets = nullptr;
  int n = virConnectListAllNetworks(conn(), &nets, 0);
  if (n < 0) return LastLibvirtError("list networks");
  std::vector<NetworkHandle> owned(nets, nets + n);
  free(nets);
  return owned;
}

absl::StatusOr<std::vector<std::string>> LibvirtHypervisor::ListUnbackedBridges() {
  if (!seal_bridges_) return std::vector<std::string>{};  // the test driver makes no bridges
  std::vector<std::string> bridges = ListLabrackBridges();  // before the networks: see hypervisor.h
  if (bridges.empty()) return bridges;
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(std::vector<NetworkHandle> owned, AllNetworks());
  std::set<std::string> backed;
  for (const NetworkHandle& net : owned) {
    CString xml(virNetworkGetXMLDesc(net.get(), 0));
    if (!xml) {
      absl::Status s = LastLibvirtError("describe network");
      if (absl::IsNotFound(s)) continue;  // undefined meanwhile: it backs nothing now
      return s;
    }
    pugi::xml_document doc;
    if (!doc.load_string(xml.get())) return absl::InternalError("describe network: unreadable XML");
    backed.insert(doc.child("network").child("bridge").attribute("name").value());
  }
  virResetLastError();
  std::erase_if(bridges, [&](const std::string& b) { return backed.contains(b); });
  return bridges;
}

absl::Status LibvirtHypervisor::RemoveBridge(const std::string& name) {
  RETURN_IF_ERROR(ValidateBridgeName("bridge", name));
  return seal_bridges_ ? RemoveLeftoverBridge(name) : absl::OkStatus();
}

// ---- port filters (the host's nftables, not libvirt: see nft_port_filter.h) ----

absl::Status LibvirtHypervisor::ApplyPortFilter(const PortFilterSpec& spec) {
  ASSIGN_OR_RETURN(std::string script, BuildPortFilterScript(spec));
  if (!seal_bridges_) return absl::OkStatus();  // the test driver's guests have no taps
  return RunHostCommandWithIo({"nft", "-f", "-"}, script, kNftTimeout).status();
}

absl::Status LibvirtHypervisor::RemovePortFilter(const std::string& sandbox_id) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", sandbox_id));
  if (!seal_bridges_) return absl::OkStatus();
  return RunHostCommandWithIo({"nft", "-f", "-"}, BuildPortFilterDeleteScript(sandbox_id),
                              kNftTimeout)
      .status();
}

absl::StatusOr<std::vector<PortFilterInfo>> LibvirtHypervisor::ListPortFilters() {
  if (!seal_bridges_) return std::vector<PortFilterInfo>{};
  ASSIGN_OR_RETURN(std::string listing,
                   RunHostCommandWithIo({"nft", "list", "ruleset", "bridge"}, "", kNftTimeout));
  return ParsePortFilterTables(listing);
}

absl::StatusOr<std::vector<NetworkInfo>> LibvirtHypervisor::ListNetworks(
    const std::string& host_id) {
  return ListNetworksNamed(host_id, std::string(kObjectPrefix));
}

absl::StatusOr<std::vector<NetworkInfo>> LibvirtHypervisor::ListNetworksNamed(
    const std::string& host_id, const std::string& name_prefix) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(std::vector<NetworkHandle> owned, AllNetworks());
  std::vector<NetworkInfo> out;
  for (const NetworkHandle& net : owned) {
    const char* name = virNetworkGetName(net.get());
    if (name == nullptr || !absl::StartsWith(name, kObjectPrefix) ||
        !absl::StartsWith(name, name_prefix)) {
      continue;
    }
    CString xml(virNetworkGetXMLDesc(net.get(), 0));
    if (!xml) continue;  // vanished meanwhile
    absl::StatusOr<NetworkInfo> info = ParseNetworkXml(xml.get());
    if (!info.ok() || info->tag.host_id != host_id) continue;
    info->active = virNetworkIsActive(net.get()) == 1;
    out.push_back(*std::move(info));
  }
  virResetLastError();
  return out;
}

// ---- domains ----

absl::Status LibvirtHypervisor::DefineDomain(const DomainSpec& spec) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  std::string xml = BuildDomainXml(spec);
  DomainHandle dom(virDomainDefineXML(conn(), xml.c_str()));
  if (!dom) return LastLibvirtError(absl::StrCat("define domain ", spec.name));
  return absl::OkStatus();
}

absl::Status LibvirtHypervisor::SetDomainTag(const std::string& name, const ObjectTag& tag) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(DomainHandle dom, LookupDomain(name));
  unsigned int flags = VIR_DOMAIN_AFFECT_CONFIG;
  if (virDomainIsActive(dom.get()) == 1) flags |= VIR_DOMAIN_AFFECT_LIVE;
  std::string xml = BuildTagXmlForSetMetadata(tag);
  if (virDomainSetMetadata(dom.get(), VIR_DOMAIN_METADATA_ELEMENT, xml.c_str(), kTagPrefix,
                           kTagNamespaceUri, flags) < 0) {
    return LastLibvirtError(absl::StrCat("set the labrack tag of domain ", name));
  }
  return absl::OkStatus();
}

absl::Status LibvirtHypervisor::StartDomain(const std::string& name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(DomainHandle dom, LookupDomain(name));
  if (virDomainIsActive(dom.get()) == 1) return absl::OkStatus();
  if (virDomainCreate(dom.get()) < 0) {
    return LastLibvirtError(absl::StrCat("start domain ", name));
  }
  return absl::OkStatus();
}

absl::Status LibvirtHypervisor::StopDomain(const std::string& name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(DomainHandle dom, LookupDomain(name));
  return PowerOff(dom.get(), name, seal_bridges_);
}

absl::Status LibvirtHypervisor::SuspendDomain(const std::string& name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(DomainHandle dom, LookupDomain(name));
  if (virDomainSuspend(dom.get()) < 0) {
    return LastLibvirtError(absl::StrCat("pause domain ", name));
  }
  return absl::OkStatus();
}

absl::Status LibvirtHypervisor::ResumeDomain(const std::string& name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(DomainHandle dom, LookupDomain(name));
  if (virDomainResume(dom.get()) < 0) {
    return LastLibvirtError(absl::StrCat("resume domain ", name));
  }
  return absl::OkStatus();
}

absl::Status LibvirtHypervisor::DestroyDomain(const std::string& name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  absl::StatusOr<DomainHandle> dom = LookupDomain(name);
  if (absl::IsNotFound(dom.status())) return absl::OkStatus();
  if (!dom.ok()) return dom.status();
  absl::Status stopped = PowerOff(dom->get(), name, seal_bridges_);
  if (!stopped.ok() && !absl::IsNotFound(stopped)) return stopped;
  if (virDomainIsPersistent(dom->get()) == 1 && virDomainUndefine(dom->get()) < 0) {
    absl::Status s = LastLibvirtError(absl::StrCat("undefine domain ", name));
    if (!absl::IsNotFound(s)) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<DomainInfo> LibvirtHypervisor::DescribeDomain(virDomainPtr dom) {
  DomainInfo info;
  info.name = virDomainGetName(dom);
  int state = 0, reason = 0;
  if (virDomainGetState(dom, &state, &reason, 0) < 0) {
    return LastLibvirtError(absl::StrCat("state of domain ", info.name));
  }
  info.state = StateFromLibvirt(state, reason);
  CString xml(virDomainGetXMLDesc(dom, 0));
  if (!xml) return LastLibvirtError(absl::StrCat("describe domain ", info.name));
  absl::StatusOr<ObjectTag> tag = ParseTag(xml.get());
  if (tag.ok()) info.tag = *std::move(tag);
  return info;
}

absl::StatusOr<std::vector<DomainInfo>> LibvirtHypervisor::ListDomains(
    const std::string& host_id) {
  return ListDomainsNamed(host_id, std::string(kObjectPrefix));
}

absl::StatusOr<std::vector<DomainInfo>> LibvirtHypervisor::ListDomainsNamed(
    const std::string& host_id, const std::string& name_prefix) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  virDomainPtr* doms = nullptr;
  int n = virConnectListAllDomains(conn(), &doms, 0);
  if (n < 0) return LastLibvirtError("list domains");
  std::vector<DomainHandle> owned(doms, doms + n);
  free(doms);
  std::vector<DomainInfo> out;
  for (const DomainHandle& dom : owned) {
    const char* name = virDomainGetName(dom.get());
    if (name == nullptr || !absl::StartsWith(name, kObjectPrefix) ||
        !absl::StartsWith(name, name_prefix)) {
      continue;
    }
    absl::StatusOr<DomainInfo> info = DescribeDomain(dom.get());
    if (!info.ok() || info->tag.host_id != host_id) continue;  // vanished or not ours
    out.push_back(*std::move(info));
  }
  virResetLastError();
  return out;
}

absl::StatusOr<DomainInfo> LibvirtHypervisor::GetDomain(const std::string& name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(DomainHandle dom, LookupDomain(name));
  return DescribeDomain(dom.get());
}

absl::StatusOr<std::unique_ptr<ConsoleStream>> LibvirtHypervisor::OpenConsole(
    const std::string& name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(DomainHandle dom, LookupDomain(name));
  return OpenLibvirtConsole(conn(), dom.get(), name);
}

absl::StatusOr<HostResources> LibvirtHypervisor::GetHostResources() {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  virNodeInfo info;
  if (virNodeGetInfo(conn(), &info) < 0) return LastLibvirtError("read host resources");
  return HostResources{info.cpus, info.memory / 1024};
}

absl::Status LibvirtHypervisor::SaveDomain(const std::string& name, const std::string& path) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(DomainHandle dom, LookupDomain(name));
  if (virDomainSaveFlags(dom.get(), path.c_str(), nullptr, VIR_DOMAIN_SAVE_RUNNING) < 0) {
    return LastLibvirtError(absl::StrCat("save the memory state of domain ", name));
  }
  return absl::OkStatus();
}

absl::Status LibvirtHypervisor::RestoreDomain(const std::string& path) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  if (virDomainRestoreFlags(conn(), path.c_str(), nullptr, VIR_DOMAIN_SAVE_RUNNING) < 0) {
    return LastLibvirtError(absl::StrCat("restore a domain from ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LibvirtHypervisor::GetDomainDefinition(const std::string& name) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(DomainHandle dom, LookupDomain(name));
  CString xml(virDomainGetXMLDesc(dom.get(), VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE));
  if (!xml) return LastLibvirtError(absl::StrCat("describe the definition of domain ", name));
  return std::string(xml.get());
}

absl::StatusOr<std::string> LibvirtHypervisor::GetVersion() {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  const char* type = virConnectGetType(conn());
  unsigned long version = 0;
  if (type == nullptr || virConnectGetVersion(conn(), &version) < 0) {
    return LastLibvirtError("read the hypervisor's version");
  }
  return absl::StrCat(type, " ", version / 1000000, ".", version / 1000 % 1000, ".", version % 1000);
}

absl::StatusOr<std::string> LibvirtHypervisor::AgentCommand(const std::string& name,
                                                            const std::string& command,
                                                            absl::Duration timeout) {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  ASSIGN_OR_RETURN(DomainHandle dom, LookupDomain(name));
  const int seconds = std::max<int>(1, static_cast<int>(absl::ToInt64Seconds(timeout)));
  CString answer(virDomainQemuAgentCommand(dom.get(), command.c_str(), seconds, 0));
  if (!answer) {
    virErrorPtr err = virGetLastError();
    const int code = err != nullptr ? err->code : 0;
    absl::Status s = LastLibvirtError(absl::StrCat("guest agent of domain ", name));
    // A guest whose agent has not opened its port yet: "not connected" (libvirt reports
    // it as unresponsive too).
    if (code == VIR_ERR_AGENT_UNSYNCED || absl::StrContains(s.message(), "not connected")) {
      return absl::UnavailableError(s.message());
    }
    if (code == VIR_ERR_AGENT_UNRESPONSIVE) return absl::DeadlineExceededError(s.message());
    return s;
  }
  return std::string(answer.get());
}

absl::StatusOr<bool> LibvirtHypervisor::KvmAdvertised() {
  CallSlot slot(this);
  RETURN_IF_ERROR(slot.status());
  CString caps(virConnectGetCapabilities(conn()));
  if (!caps) return LastLibvirtError("read host capabilities");
  pugi::xml_document doc;
  if (!doc.load_string(caps.get())) return absl::InternalError("unreadable host capabilities");
  return !doc.select_nodes("/capabilities/guest/arch/domain[@type='kvm']").empty();
}

}  // namespace labrack::worker
