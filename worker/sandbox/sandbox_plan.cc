#include "worker/sandbox/sandbox_plan.h"

#include <google/protobuf/util/json_util.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "common/topology/link_shape.h"
#include "common/topology/topology_validate.h"
#include "worker/sandbox/link_emulation.h"

namespace labrack::worker {
namespace {

// Roles that forward other hosts' frames or packets and so must be free to spoof.
bool MayForward(v1::NodeRole role) {
  return role == v1::NODE_ROLE_SWITCH || role == v1::NODE_ROLE_ROUTER ||
         role == v1::NODE_ROLE_FIREWALL;
}

ObjectTag TagFor(const v1::SandboxSpec& spec, const PlanContext& ctx, const std::string& node) {
  ObjectTag tag;
  tag.host_id = ctx.host_id;
  tag.sandbox_id = spec.sandbox_id();
  tag.generation = spec.generation();
  tag.node = node;
  tag.session_id = spec.session_id();
  tag.candidate = spec.candidate();
  tag.topology = spec.topology().name();
  return tag;
}

// The manifest's format word ("qcow2" or "raw", validated on import).
DiskFormat FormatOf(const std::string& format) {
  return format == "raw" ? DiskFormat::kRaw : DiskFormat::kQcow2;
}

std::string AddressOnly(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

using ShapeMap = std::map<std::string, v1::LinkShape>;  // network name -> its shape

// On a host with netem, both ends of a shaped link get a named tap with netem on it (delay,
// loss and rate towards the guest: one direction each). netem's own rate, not libvirt's
// <bandwidth>, limits the bandwidth: <bandwidth> puts libvirt's htb at the tap's root,
// where netem goes. Without netem the link emulator does it all.
void ShapeNic(const ShapeMap& shapes, const std::string& network, const PlanContext& ctx,
              const std::string& tap, DomainNic& nic) {
  auto it = shapes.find(network);
  if (it == shapes.end() || !ctx.host_has_netem) return;
  nic.host_netem = NetemTcArgs(it->second);
  if (!nic.host_netem.empty()) nic.tap = tap;
}

absl::StatusOr<NodePlan> PlanNode(const v1::SandboxSpec& spec, const v1::Node& node,
                                  int node_index, const PlanContext& ctx,
                                  const std::string& spec_json, const ShapeMap& shapes) {
  ASSIGN_OR_RETURN(CachedImage image, ctx.resolve_image(node.image()));
  NodePlan plan;
  plan.node = node.name();
  DomainSpec& d = plan.domain;
  d.name = DomainName(spec.sandbox_id(), node.name());
  d.type = ctx.domain_type;
  d.vcpus = node.vcpus();
  d.memory_mib = node.memory_mib();
  d.kernel = image.kernel_path;
  d.initrd = image.initrd_path;
  d.serial_log = SerialLogPath(ctx.sandbox_dir, node.name());
  d.tag = TagFor(spec, ctx, node.name());
  d.tag.spec_json = spec_json;

  // The root overlay lies on the image's disk, and through it on what that disk is
  // layered on (a captured image's base), every level named with its format.
  VolumeSpec root{ctx.pool, RootVolumeName(spec.sandbox_id(), node.name()),
                  image.disk_virtual_bytes, image.disk_path, FormatOf(image.disk_format)};
  plan.volumes.push_back(root);
  std::vector<BackingFile> chain = {{root.backing_path, root.backing_format}};
  for (const CachedDisk& below : image.backing_chain) {
    chain.push_back({below.path, FormatOf(below.format)});
  }
  d.disks.push_back({absl::StrCat(ctx.pool_dir, "/", root.name), DiskFormat::kQcow2,
                     std::move(chain), "vda"});
  for (int i = 0; i < node.disks_size(); ++i) {
    const v1::Disk& disk = node.disks(i);
    VolumeSpec blank{ctx.pool, DiskVolumeName(spec.sandbox_id(), node.name(), disk.name()),
                     disk.size_mib() << 20, "", DiskFormat::kQcow2};
    plan.volumes.push_back(blank);
    std::string target = absl::StrCat("vd", std::string(1, static_cast<char>('b' + i)));
    d.disks.push_back({absl::StrCat(ctx.pool_dir, "/", blank.name), DiskFormat::kQcow2, {},
                       target});
  }

  std::vector<std::string> ip_args;
  for (int i = 0; i < node.nics_size(); ++i) {
    const v1::Nic& nic = node.nics(i);
    DomainNic dn;
    dn.network = NetworkName(spec.sandbox_id(), nic.network());
    dn.mac = NicMac(node.name(), i);
    if (!nic.address().empty()) {
      ip_args.push_back(absl::StrCat(dn.mac, "=", nic.address()));
      plan.addresses.push_back(nic.address());
      if (!MayForward(node.role())) dn.filter_ip = AddressOnly(nic.address());
    }
    const std::string tap = TapName(spec.sandbox_id(), node_index, i);
    ShapeNic(shapes, nic.network(), ctx, tap, dn);
    // The port filter names the tap before the guest exists.
    if (!dn.filter_ip.empty()) dn.tap = tap;
    d.nics.push_back(dn);
  }
  d.cmdline = absl::StrCat(image.manifest.cmdline(), " labrack.node=", node.name());
  if (!ip_args.empty()) absl::StrAppend(&d.cmdline, " labrack.ip=", absl::StrJoin(ip_args, ","));
  plan.templatable =
      ctx.templates && !image.kernel_path.empty() && image.manifest.guest_agent() == "qemu-ga";
  plan.password_hash = spec.console_password_hash();
  if (!plan.templatable) plan = WithoutTemplate(plan);
  plan.marker = image.manifest.readiness().serial_marker();
  if (plan.marker.empty()) plan.marker = kDefaultReadyMarker;
  plan.image = absl::StrCat(image.manifest.name(), "@", image.manifest.version());
  return plan;
}

// Replaces the emulated link's network by its two halves: the first NIC on it (in node
// order) moves to half a, the second to half b, and the emulator joins both.
absl::Status SplitLink(const v1::SandboxSpec& spec, const EmulatedLink& link, int extra_index,
                       const PlanContext& ctx, const std::string& spec_json, SandboxPlan& plan) {
  const std::string& id = spec.sandbox_id();
  std::string whole = NetworkName(id, link.network);
  for (NetworkSpec& net : plan.networks) {
    if (net.name != whole) continue;
    NetworkSpec b = net;
    net.name = NetworkName(id, link.half_a);
    b.name = NetworkName(id, link.half_b);
    b.bridge = BridgeName(id, extra_index);
    plan.networks.push_back(b);
    break;
  }
  int ends = 0;
  for (NodePlan& node : plan.nodes) {
    for (DomainNic& nic : node.domain.nics) {
      if (nic.network != whole) continue;
      nic.network = NetworkName(id, ends++ == 0 ? link.half_a : link.half_b);
    }
  }
  if (ends != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "topology.networks[", link.network_index, "].shape: a shaped network must join exactly "
        "two NICs (a point-to-point link), got ", ends));
  }
  absl::StatusOr<NodePlan> emulator = PlanNode(spec, link.emulator, -1, ctx, spec_json, {});
  if (absl::IsNotFound(emulator.status())) {
    return absl::NotFoundError(absl::StrCat(
        "topology.networks[", link.network_index, "] \"", link.network, "\" is shaped, which this "
        "host (no netem in its kernel) does with a guest of image ",
        kLinkEmulatorImage, ": import it (images/build.sh ", kLinkEmulatorImage, "); ",
        emulator.status().message()));
  }
  if (!emulator.ok()) return emulator.status();
  absl::StrAppend(&emulator->domain.cmdline, " labrack.netem=", link.netem);
  plan.nodes.push_back(*std::move(emulator));
  return absl::OkStatus();
}

}  // namespace

std::string NicMac(const std::string& node, int index) {
  // FNV-1a: unlike absl::Hash it is not salted per process, so MACs survive restarts.
  uint64_t h = 1469598103934665603ULL;
  for (char c : absl::StrCat(node, "/", index)) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  return absl::StrFormat("52:54:00:%02x:%02x:%02x", (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
}

std::string RootVolumeName(const std::string& sandbox_id, const std::string& node) {
  return absl::StrCat(DomainName(sandbox_id, node), "-root.qcow2");
}

std::string DiskVolumeName(const std::string& sandbox_id, const std::string& node,
                           const std::string& disk) {
  return absl::StrCat(DomainName(sandbox_id, node), "-disk-", disk, ".qcow2");
}

std::string SerialLogPath(const std::string& sandbox_dir, const std::string& node) {
  return absl::StrCat(sandbox_dir, "/", node, ".serial.log");
}

NodePlan WithoutTemplate(const NodePlan& node) {
  NodePlan cold = node;
  cold.templatable = false;
  if (!cold.password_hash.empty()) {
    absl::StrAppend(&cold.domain.cmdline, " labrack.password_hash=", cold.password_hash);
  }
  cold.password_hash.clear();
  return cold;
}

absl::Status ValidateSandboxSpec(const v1::SandboxSpec& spec) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", spec.sandbox_id()));
  if (!spec.session_id().empty()) RETURN_IF_ERROR(ValidateCandidateId("session_id", spec.session_id()));
  if (!spec.candidate().empty()) RETURN_IF_ERROR(ValidateCandidateId("candidate", spec.candidate()));
  if (!spec.console_password_hash().empty()) {
    RETURN_IF_ERROR(ValidatePasswordHash("console_password_hash", spec.console_password_hash()));
  }
  absl::Status s = ValidateTopology(spec.topology());
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("topology.", s.message()));
  return absl::OkStatus();
}

absl::StatusOr<SandboxPlan> PlanSandbox(const v1::SandboxSpec& input, const PlanContext& ctx) {
  RETURN_IF_ERROR(ValidateSandboxSpec(input));
  v1::SandboxSpec spec = input;
  ASSIGN_OR_RETURN(*spec.mutable_topology(), WithAssignedAddresses(spec.topology()));
  std::string spec_json;
  google::protobuf::util::JsonPrintOptions options;
  if (!google::protobuf::util::MessageToJsonString(spec, &spec_json, options).ok()) {
    return absl::InternalError("cannot encode the sandbox spec as JSON");
  }
  SandboxPlan plan;
  const v1::Topology& topo = spec.topology();
  ShapeMap shapes;
  for (int i = 0; i < topo.networks_size(); ++i) {
    NetworkSpec net;
    net.name = NetworkName(spec.sandbox_id(), topo.networks(i).name());
    net.bridge = BridgeName(spec.sandbox_id(), i);
    net.tag = TagFor(spec, ctx, "");
    plan.networks.push_back(net);
    if (IsShaped(topo.networks(i))) shapes[topo.networks(i).name()] = topo.networks(i).shape();
  }
  for (int i = 0; i < topo.nodes_size(); ++i) {
    ASSIGN_OR_RETURN(NodePlan np, PlanNode(spec, topo.nodes(i), i, ctx, spec_json, shapes));
    plan.nodes.push_back(std::move(np));
  }
  int extra_index = topo.networks_size();
  for (const EmulatedLink& link : EmulatedLinks(topo, ctx.host_has_netem)) {
    RETURN_IF_ERROR(SplitLink(spec, link, extra_index++, ctx, spec_json, plan));
  }
  std::set<std::string> macs;
  plan.port_filter.sandbox_id = spec.sandbox_id();
  plan.port_filter.host_id = ctx.host_id;
  for (const NodePlan& np : plan.nodes) {
    for (const DomainNic& nic : np.domain.nics) {
      if (!macs.insert(nic.mac).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            "topology.nodes: two NICs would share MAC ", nic.mac, "; rename one of the nodes"));
      }
      if (!nic.filter_ip.empty()) plan.port_filter.ports.push_back({nic.tap, nic.mac, nic.filter_ip});
    }
  }
  return plan;
}

}  // namespace labrack::worker
