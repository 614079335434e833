// Turns a sandbox spec into the exact libvirt objects that make it: networks, volumes and
// domains with their deterministic names, MACs, disks and kernel command lines. A pure
// function of its inputs, so that create, reset and tests agree on every name.
#ifndef LABRACK_WORKER_SANDBOX_SANDBOX_PLAN_H_
#define LABRACK_WORKER_SANDBOX_SANDBOX_PLAN_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "labrack/v1/types.pb.h"
#include "worker/hypervisor/types.h"
#include "worker/images/image_cache.h"

namespace labrack::worker {

// What a guest prints once it is up when its image names no marker of its own.
inline constexpr char kDefaultReadyMarker[] = "LABRACK-READY";

struct PlanContext {
  std::string host_id;
  std::string pool;         // storage pool name
  std::string pool_dir;     // its folder
  std::string sandbox_dir;  // per-sandbox folder for serial logs
  DomainType domain_type = DomainType::kQemu;
  // Whether the host kernel has netem. Without it, links that ask for latency or loss get
  // a hidden emulator guest (see link_emulation.h).
  bool host_has_netem = false;
  // Whether nodes may be built from templates (node_templates.h). Their kernel command line
  // then carries nothing of the sandbox's own (no console password), as their memory
  // state may restore into another sandbox.
  bool templates = false;
  // Resolves an image name to its cached artifacts.
  std::function<absl::StatusOr<CachedImage>(const std::string&)> resolve_image;
};

struct NodePlan {
  std::string node;
  DomainSpec domain;
  // The node's volumes: its root overlay first, then one per blank disk.
  std::vector<VolumeSpec> volumes;
  std::vector<std::string> addresses;
  // What the guest prints on its serial console once it is up.
  std::string marker;
  // Its image as "name@version".
  std::string image;
  // Whether it may be restored from a template, and be made one (PlanContext::templates,
  // a directly booted kernel and a guest agent, which gives it password_hash).
  bool templatable = false;
  // The sandbox's console password hash, when templatable (its command line has none).
  std::string password_hash;
};

struct SandboxPlan {
  std::vector<NetworkSpec> networks;
  // The topology's nodes in order, then one hidden link emulator per emulated link.
  std::vector<NodePlan> nodes;
  // Anti-spoofing for every NIC with a filter_ip, in node order.
  PortFilterSpec port_filter;
};

// InvalidArgument for a spec that breaks a rule (named by field); NotFound for an image the
// cache does not hold.
absl::StatusOr<SandboxPlan> PlanSandbox(const v1::SandboxSpec& spec, const PlanContext& ctx);

// `node` as it is built when it cannot be restored nor made a template: not templatable,
// its sandbox's password hash on its kernel command line, as for images without an agent.
NodePlan WithoutTemplate(const NodePlan& node);

// Validates everything a worker needs from a spec before it touches anything.
absl::Status ValidateSandboxSpec(const v1::SandboxSpec& spec);

// The MAC of a node's nth NIC: 52:54:00 and three bytes of a hash of the node's name and
// the index. Stable across resets, so guests keep their interface names and addresses, and
// the same in every sandbox, so that a node's memory state (a template: its kernel holds
// the MAC) restores into any sandbox. Sandboxes never share a link layer (each has its own
// bridges), so equal MACs in two sandboxes meet nowhere.
std::string NicMac(const std::string& node, int index);

// Volume file names: lr-<sandbox8>-<node>-root.qcow2 and lr-<sandbox8>-<node>-disk-<name>.qcow2.
std::string RootVolumeName(const std::string& sandbox_id, const std::string& node);
std::string DiskVolumeName(const std::string& sandbox_id, const std::string& node,
                           const std::string& disk);
// The serial log file of a node inside the sandbox folder.
std::string SerialLogPath(const std::string& sandbox_dir, const std::string& node);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SANDBOX_SANDBOX_PLAN_H_
