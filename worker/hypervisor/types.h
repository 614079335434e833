// Plain descriptions of the libvirt objects labrack makes, in labrack's own types, shared
// by the Hypervisor interface, the XML builders and the worker logic. Values only.
#ifndef LABRACK_WORKER_HYPERVISOR_TYPES_H_
#define LABRACK_WORKER_HYPERVISOR_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace labrack::worker {

// Stamped on every object labrack creates (the domain's and network's <metadata>), so that
// a restarted worker rebuilds what it owns from libvirt alone.
struct ObjectTag {
  std::string host_id;     // the worker that owns the object
  std::string sandbox_id;  // full id
  uint64_t generation = 0;
  std::string node;        // empty on networks
  std::string session_id;
  std::string candidate;
  std::string topology;
  // The sandbox's spec (SandboxSpec in protobuf JSON), carried on domains so that the
  // whole sandbox can be rebuilt from any one of them.
  std::string spec_json;

  friend bool operator==(const ObjectTag&, const ObjectTag&) = default;
};

struct NetworkSpec {
  std::string name;    // lr-<sandbox8>-<net>
  std::string bridge;  // lr<sandbox8><n>
  ObjectTag tag;
  // Average and peak in KiB/s and burst in KiB, as libvirt's <bandwidth>; 0 means unset.
  uint64_t bandwidth_average_kibps = 0;
};

enum class DiskFormat { kQcow2, kRaw };
const char* DiskFormatName(DiskFormat format);

struct VolumeSpec {
  std::string pool;
  std::string name;  // file name inside the pool's folder
  uint64_t capacity_bytes = 0;
  // Empty: a blank sparse volume. Else a qcow2 overlay on this read-only file.
  std::string backing_path;
  DiskFormat backing_format = DiskFormat::kQcow2;
  // Empty: the volume is made as above. Else its bytes are then replaced by this file's: a
  // frozen copy of a volume made by the same spec (a template's), so that the new volume
  // is that volume as it was.
  std::string content_from = "";
};

// One level of a disk's backing chain.
struct BackingFile {
  std::string path;
  DiskFormat format = DiskFormat::kQcow2;

  friend bool operator==(const BackingFile&, const BackingFile&) = default;
};

struct DomainDisk {
  std::string path;
  DiskFormat format = DiskFormat::kQcow2;
  // What a qcow2 overlay lies on, nearest first (e.g. a captured layer, then its base),
  // every level with its format: stated whole, so that libvirt never probes a format nor
  // follows a name from a guest-writable header. Empty: no backing file.
  std::vector<BackingFile> backing;
  std::string target;  // vda, vdb, ...
};

struct DomainNic {
  std::string network;  // libvirt network name
  std::string mac;      // 52:54:00:xx:xx:xx
  // Anti-spoofing bound to this address and `mac` (the sandbox's port filter, see
  // PortFilterSpec); empty: none. Not part of the domain XML; such a NIC has a `tap`.
  std::string filter_ip;
  // Name of the host-side tap device (<target dev>); empty: libvirt picks vnetN.
  std::string tap = "";
  // netem arguments (tc syntax, e.g. "delay 40ms loss 0.5% rate 10000kbit") for `tap` on a
  // host whose kernel has netem; empty: none. Not part of the domain XML.
  std::string host_netem = "";
};

enum class DomainType { kKvm, kQemu };
const char* DomainTypeName(DomainType type);

struct DomainSpec {
  std::string name;  // lr-<sandbox8>-<node>
  DomainType type = DomainType::kQemu;
  uint32_t vcpus = 1;
  uint32_t memory_mib = 128;
  // Direct kernel boot when kernel is set.
  std::string kernel;
  std::string initrd;
  std::string cmdline;
  std::vector<DomainDisk> disks;
  std::vector<DomainNic> nics;
  // Everything the guest prints on its serial console is also written here (truncated at
  // each start).
  std::string serial_log;
  ObjectTag tag;
};

// kStarting: libvirt holds a new qemu paused while it sets it up, before the guest runs;
// on a busy host that lasts seconds, and it is not a pause anyone asked for.
enum class DomainState { kRunning, kStarting, kPaused, kShutoff, kCrashed, kOther };

struct DomainInfo {
  std::string name;
  DomainState state = DomainState::kOther;
  ObjectTag tag;
};

struct NetworkInfo {
  std::string name;
  std::string bridge;
  bool active = false;
  ObjectTag tag;
};

// One guest NIC whose frames the host checks as they enter the bridge from its tap: they
// must come from `mac` and, for IPv4 and ARP, from `ip` (see nft_port_filter.h).
struct PortGuard {
  std::string tap;  // the NIC's host-side tap (it need not exist yet)
  std::string mac;  // 52:54:00:xx:xx:xx
  std::string ip;   // dotted IPv4, without a prefix length

  friend bool operator==(const PortGuard&, const PortGuard&) = default;
};

// The anti-spoofing of one sandbox's guests: one host firewall table, made whole at once.
struct PortFilterSpec {
  std::string sandbox_id;
  std::string host_id;  // the worker that owns it, stamped on the table as tags are
  std::vector<PortGuard> ports;

  friend bool operator==(const PortFilterSpec&, const PortFilterSpec&) = default;
};

// A port filter present on the host.
struct PortFilterInfo {
  std::string sandbox8;    // from the table's name
  std::string sandbox_id;  // from its stamp; sandbox8 when it has none
  std::string host_id;     // from its stamp; empty when it has none

  friend bool operator==(const PortFilterInfo&, const PortFilterInfo&) = default;
};

// What the host offers to guests in total.
struct HostResources {
  uint32_t cpus = 0;
  uint64_t memory_mib = 0;
};

struct VolumeInfo {
  std::string name;
  std::string path;
  uint64_t capacity_bytes = 0;
  uint64_t allocation_bytes = 0;
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HYPERVISOR_TYPES_H_
