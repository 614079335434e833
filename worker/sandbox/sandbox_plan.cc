#include "worker/sandbox/sandbox_plan.h"

#include <google/protobuf/util/json_util.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "common/topology/topology_validate.h"

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

std::string AddressOnly(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

absl::StatusOr<NodePlan> PlanNode(const v1::SandboxSpec& spec, const v1::Node& node,
                                  const PlanContext& ctx, const std::string& spec_json) {
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

  VolumeSpec root{ctx.pool, RootVolumeName(spec.sandbox_id(), node.name()),
                  image.disk_virtual_bytes, image.disk_path,
                  image.disk_format == "raw" ? DiskFormat::kRaw : DiskFormat::kQcow2};
  plan.volumes.push_back(root);
  d.disks.push_back({absl::StrCat(ctx.pool_dir, "/", root.name), DiskFormat::kQcow2,
                     root.backing_path, root.backing_format, "vda"});
  for (int i = 0; i < node.disks_size(); ++i) {
    const v1::Disk& disk = node.disks(i);
    VolumeSpec blank{ctx.pool, DiskVolumeName(spec.sandbox_id(), node.name(), disk.name()),
                     disk.size_mib() << 20, "", DiskFormat::kQcow2};
    plan.volumes.push_back(blank);
    std::string target = absl::StrCat("vd", std::string(1, static_cast<char>('b' + i)));
    d.disks.push_back({absl::StrCat(ctx.pool_dir, "/", blank.name), DiskFormat::kQcow2, "",
                       DiskFormat::kQcow2, target});
  }

  std::vector<std::string> ip_args;
  for (int i = 0; i < node.nics_size(); ++i) {
    const v1::Nic& nic = node.nics(i);
    DomainNic dn{NetworkName(spec.sandbox_id(), nic.network()),
                 NicMac(spec.sandbox_id(), node.name(), i), ""};
    if (!nic.address().empty()) {
      ip_args.push_back(absl::StrCat(dn.mac, "=", nic.address()));
      plan.addresses.push_back(nic.address());
      if (!MayForward(node.role())) dn.filter_ip = AddressOnly(nic.address());
    }
    d.nics.push_back(dn);
  }
  d.cmdline = absl::StrCat(image.manifest.cmdline(), " labrack.node=", node.name());
  if (!ip_args.empty()) absl::StrAppend(&d.cmdline, " labrack.ip=", absl::StrJoin(ip_args, ","));
  return plan;
}

}  // namespace

std::string NicMac(const std::string& sandbox_id, const std::string& node, int index) {
  // FNV-1a: unlike absl::Hash it is not salted per process, so MACs survive restarts.
  uint64_t h = 1469598103934665603ULL;
  for (char c : absl::StrCat(sandbox_id, "/", node, "/", index)) {
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

absl::Status ValidateSandboxSpec(const v1::SandboxSpec& spec) {
  RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", spec.sandbox_id()));
  if (!spec.session_id().empty()) RETURN_IF_ERROR(ValidateCandidateId("session_id", spec.session_id()));
  if (!spec.candidate().empty()) RETURN_IF_ERROR(ValidateCandidateId("candidate", spec.candidate()));
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
  for (int i = 0; i < topo.networks_size(); ++i) {
    NetworkSpec net;
    net.name = NetworkName(spec.sandbox_id(), topo.networks(i).name());
    net.bridge = BridgeName(spec.sandbox_id(), i);
    net.tag = TagFor(spec, ctx, "");
    plan.networks.push_back(net);
  }
  std::set<std::string> macs;
  for (const v1::Node& node : topo.nodes()) {
    ASSIGN_OR_RETURN(NodePlan np, PlanNode(spec, node, ctx, spec_json));
    for (const DomainNic& nic : np.domain.nics) {
      if (!macs.insert(nic.mac).second) {
        return absl::InternalError(absl::StrCat("MAC collision ", nic.mac, " in sandbox ",
                                                spec.sandbox_id(), "; rename a node"));
      }
    }
    plan.nodes.push_back(std::move(np));
  }
  return plan;
}

}  // namespace labrack::worker
