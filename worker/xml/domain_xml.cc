// libvirt domain XML for a labrack guest, built and parsed with pugixml.
// Pure functions; thread-safe.
#include "worker/xml/domain_xml.h"

#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "pugixml.hpp"
#include "worker/xml/metadata_xml.h"
#include "worker/xml/type_names.h"
#include "worker/xml/xml_util.h"

namespace labrack::worker {
namespace {

using xml_internal::AppendText;
using xml_internal::AppendWithAttr;
using xml_internal::SetAttr;

// More than labrack ever makes (an image's disk and its backing disks, under an overlay).
constexpr size_t kMaxBackingDepth = 16;

// ---- building ----

void AppendOs(pugi::xml_node domain, const DomainSpec& spec) {
  pugi::xml_node os = domain.append_child("os");
  pugi::xml_node type = AppendText(os, "type", "hvm");
  SetAttr(type, "arch", "x86_64");
  SetAttr(type, "machine", "pc");
  if (spec.kernel.empty()) {
    AppendWithAttr(os, "boot", "dev", "hd");
    return;
  }
  AppendText(os, "kernel", spec.kernel);
  if (!spec.initrd.empty()) AppendText(os, "initrd", spec.initrd);
  if (!spec.cmdline.empty()) AppendText(os, "cmdline", spec.cmdline);
}

// A stated backing chain: every file of a known format, nearest first, then an explicit
// end, so that libvirt and qemu never read a format or a further backing file from a
// guest-writable header (nor from a layer's header: its relative name is for qemu-img).
void AppendBackingStore(pugi::xml_node disk, const DomainDisk& spec) {
  pugi::xml_node backing = disk.append_child("backingStore");
  for (const BackingFile& file : spec.backing) {
    SetAttr(backing, "type", "file");
    AppendWithAttr(backing, "format", "type", DiskFormatName(file.format));
    pugi::xml_node source = AppendWithAttr(backing, "source", "file", file.path);
    // libvirt's DAC driver would otherwise chown the shared base image to the qemu user
    // (and never give it back), letting one guest's qemu write what every overlay reads.
    // The image cache keeps bases world-readable (0444), which is all qemu needs.
    pugi::xml_node label = AppendWithAttr(source, "seclabel", "model", "dac");
    SetAttr(label, "relabel", "no");
    backing = backing.append_child("backingStore");
  }
  // The innermost <backingStore/>: no further backing file.
}

void AppendDisk(pugi::xml_node devices, const DomainDisk& spec) {
  pugi::xml_node disk = devices.append_child("disk");
  SetAttr(disk, "type", "file");
  SetAttr(disk, "device", "disk");
  pugi::xml_node driver = AppendWithAttr(disk, "driver", "name", "qemu");
  SetAttr(driver, "type", DiskFormatName(spec.format));
  SetAttr(driver, "cache", kDiskCacheMode);
  SetAttr(driver, "discard", "unmap");
  AppendWithAttr(disk, "source", "file", spec.path);
  AppendBackingStore(disk, spec);
  pugi::xml_node target = AppendWithAttr(disk, "target", "dev", spec.target);
  SetAttr(target, "bus", "virtio");
}

void AppendNic(pugi::xml_node devices, const DomainNic& spec) {
  pugi::xml_node nic = devices.append_child("interface");
  SetAttr(nic, "type", "network");
  AppendWithAttr(nic, "mac", "address", spec.mac);
  AppendWithAttr(nic, "source", "network", spec.network);
  if (!spec.tap.empty()) AppendWithAttr(nic, "target", "dev", spec.tap);
  AppendWithAttr(nic, "model", "type", "virtio");
  // No <filterref>: the worker's own port filter (nft_port_filter.h) does the anti-spoofing.
}

void AppendConsole(pugi::xml_node devices, const DomainSpec& spec) {
  pugi::xml_node serial = devices.append_child("serial");
  SetAttr(serial, "type", "pty");
  if (!spec.serial_log.empty()) {
    pugi::xml_node log = AppendWithAttr(serial, "log", "file", spec.serial_log);
    SetAttr(log, "append", "off");
  }
  AppendWithAttr(serial, "target", "port", "0");
  pugi::xml_node console = devices.append_child("console");
  SetAttr(console, "type", "pty");
  pugi::xml_node target = AppendWithAttr(console, "target", "type", "serial");
  SetAttr(target, "port", "0");
}

// The virtio-serial port qemu-guest-agent listens on in the role images; libvirt picks the
// host-side socket.
void AppendGuestAgentChannel(pugi::xml_node devices) {
  pugi::xml_node channel = devices.append_child("channel");
  SetAttr(channel, "type", "unix");
  pugi::xml_node target = AppendWithAttr(channel, "target", "type", "virtio");
  SetAttr(target, "name", "org.qemu.guest_agent.0");
}

// In the order libvirt prints devices, so that a dump differs from ours only by additions.
void AppendDevices(pugi::xml_node domain, const DomainSpec& spec) {
  pugi::xml_node devices = domain.append_child("devices");
  for (const DomainDisk& disk : spec.disks) AppendDisk(devices, disk);
  pugi::xml_node usb = AppendWithAttr(devices, "controller", "type", "usb");
  SetAttr(usb, "model", "none");
  for (const DomainNic& nic : spec.nics) AppendNic(devices, nic);
  AppendConsole(devices, spec);
  AppendGuestAgentChannel(devices);
  AppendWithAttr(devices, "memballoon", "model", "none");
  pugi::xml_node rng = AppendWithAttr(devices, "rng", "model", "virtio");
  pugi::xml_node backend = AppendText(rng, "backend", "/dev/urandom");
  SetAttr(backend, "model", "random");
}

void AppendLifecycle(pugi::xml_node domain, const DomainSpec& spec) {
  pugi::xml_node features = domain.append_child("features");
  features.append_child("acpi");
  features.append_child("apic");
  // Software emulation keeps qemu's default model: host-passthrough needs KVM.
  if (spec.type == DomainType::kKvm) {
    AppendWithAttr(domain, "cpu", "mode", "host-passthrough");
  }
  AppendWithAttr(domain, "clock", "offset", "utc");
  AppendText(domain, "on_poweroff", "destroy");
  AppendText(domain, "on_reboot", "restart");
  AppendText(domain, "on_crash", "destroy");
}

// ---- parsing ----

// libvirt's memory units (virScaleInteger): none means KiB; b/bytes; k, KiB, M, MiB...
// in powers of 1024; KB, MB... in powers of 1000. Case-insensitive, as in libvirt.
absl::StatusOr<uint64_t> UnitScale(absl::string_view unit) {
  std::string u = absl::AsciiStrToLower(unit);
  if (u.empty()) return uint64_t{1024};
  if (u == "b" || u == "bytes") return uint64_t{1};
  static constexpr absl::string_view kPrefixes = "kmgtpe";
  size_t power = kPrefixes.find(u[0]);
  absl::string_view rest = absl::string_view(u).substr(1);
  if (power != absl::string_view::npos && (rest.empty() || rest == "ib" || rest == "b")) {
    uint64_t base = rest == "b" ? 1000 : 1024;
    uint64_t scale = 1;
    for (size_t i = 0; i <= power; ++i) scale *= base;
    return scale;
  }
  return absl::InvalidArgumentError(absl::StrCat("memory: unknown unit '", unit, "'"));
}

absl::StatusOr<uint32_t> ParseMemoryMib(pugi::xml_node memory) {
  if (!memory) return absl::InvalidArgumentError("domain has no <memory>");
  ASSIGN_OR_RETURN(uint64_t scale, UnitScale(memory.attribute("unit").value()));
  ASSIGN_OR_RETURN(uint64_t value, xml_internal::ParseUint64("memory", memory.child_value()));
  if (value > std::numeric_limits<uint64_t>::max() / scale) {
    return absl::InvalidArgumentError("memory: value too large");
  }
  uint64_t mib = value * scale / (uint64_t{1} << 20);
  if (mib > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("memory: value too large");
  }
  return static_cast<uint32_t>(mib);
}

absl::StatusOr<DomainDisk> ParseDisk(pugi::xml_node disk) {
  DomainDisk out;
  std::string target = disk.child("target").attribute("dev").value();
  if (absl::string_view(disk.attribute("type").value()) != "file") {
    return absl::InvalidArgumentError(absl::StrCat("disk ", target, ": type is '",
                                                   disk.attribute("type").value(),
                                                   "', labrack only uses file disks"));
  }
  out.target = target;
  out.path = disk.child("source").attribute("file").value();
  ASSIGN_OR_RETURN(out.format, ParseDiskFormat(absl::StrCat("disk ", target, " driver type"),
                                               disk.child("driver").attribute("type").value()));
  for (pugi::xml_node backing = disk.child("backingStore");
       !std::string_view(backing.child("source").attribute("file").value()).empty();
       backing = backing.child("backingStore")) {
    if (out.backing.size() == kMaxBackingDepth) {
      return absl::InvalidArgumentError(absl::StrCat(
          "disk ", target, ": backing chain deeper than ", kMaxBackingDepth, " files"));
    }
    BackingFile& file = out.backing.emplace_back();
    file.path = backing.child("source").attribute("file").value();
    ASSIGN_OR_RETURN(file.format,
                     ParseDiskFormat(absl::StrCat("disk ", target, " backing format"),
                                     backing.child("format").attribute("type").value()));
  }
  return out;
}

absl::StatusOr<DomainNic> ParseNic(pugi::xml_node nic) {
  DomainNic out;
  out.mac = nic.child("mac").attribute("address").value();
  if (absl::string_view(nic.attribute("type").value()) != "network") {
    return absl::InvalidArgumentError(absl::StrCat("interface ", out.mac, ": type is '",
                                                   nic.attribute("type").value(),
                                                   "', labrack only attaches to libvirt networks"));
  }
  out.network = nic.child("source").attribute("network").value();
  out.tap = nic.child("target").attribute("dev").value();
  return out;
}

absl::Status ParseDevices(pugi::xml_node devices, DomainSpec& spec) {
  for (pugi::xml_node disk : devices.children("disk")) {
    ASSIGN_OR_RETURN(DomainDisk parsed, ParseDisk(disk));
    spec.disks.push_back(std::move(parsed));
  }
  for (pugi::xml_node nic : devices.children("interface")) {
    ASSIGN_OR_RETURN(DomainNic parsed, ParseNic(nic));
    spec.nics.push_back(std::move(parsed));
  }
  spec.serial_log = devices.child("serial").child("log").attribute("file").value();
  return absl::OkStatus();
}

absl::Status ParseDomainRoot(pugi::xml_node domain, ParsedDomain& out) {
  DomainSpec& spec = out.spec;
  ASSIGN_OR_RETURN(spec.type, ParseDomainType("domain type", domain.attribute("type").value()));
  spec.name = domain.child_value("name");
  ASSIGN_OR_RETURN(spec.memory_mib, ParseMemoryMib(domain.child("memory")));
  ASSIGN_OR_RETURN(spec.vcpus, xml_internal::ParseUint32("vcpu", domain.child_value("vcpu")));
  pugi::xml_node os = domain.child("os");
  spec.kernel = os.child_value("kernel");
  spec.initrd = os.child_value("initrd");
  spec.cmdline = os.child_value("cmdline");
  RETURN_IF_ERROR(ParseDevices(domain.child("devices"), spec));
  absl::StatusOr<ObjectTag> tag = FindTag(domain);
  if (tag.ok()) {
    spec.tag = *std::move(tag);
    out.has_tag = true;
  } else if (!absl::IsNotFound(tag.status())) {
    return tag.status();
  }
  return absl::OkStatus();
}

}  // namespace

std::string BuildDomainXml(const DomainSpec& spec) {
  pugi::xml_document doc;
  pugi::xml_node domain = doc.append_child("domain");
  SetAttr(domain, "type", DomainTypeName(spec.type));
  AppendText(domain, "name", spec.name);
  AppendTag(domain.append_child("metadata"), spec.tag);
  SetAttr(AppendText(domain, "memory", absl::StrCat(spec.memory_mib)), "unit", "MiB");
  AppendText(domain, "vcpu", absl::StrCat(spec.vcpus));
  AppendOs(domain, spec);
  AppendLifecycle(domain, spec);
  AppendDevices(domain, spec);
  return xml_internal::Serialize(doc);
}

absl::StatusOr<ParsedDomain> ParseDomainXml(absl::string_view xml) {
  pugi::xml_document doc;
  RETURN_IF_ERROR(xml_internal::Load(xml, "domain", "domain XML", doc));
  ParsedDomain out;
  RETURN_IF_ERROR(ParseDomainRoot(doc.document_element(), out));
  return out;
}

}  // namespace labrack::worker
