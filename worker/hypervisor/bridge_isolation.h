// Cuts a sandbox network's bridge off from the host's own IP stack. A bridge without an
// address still is an interface of the host: with Linux's defaults the host answers ARP
// on it for every address it has (arp_ignore 0), takes IP packets sent to its MAC and,
// with forwarding on (libvirt turns it on), routes them on. So a guest could reach the
// host's services and, through it, other networks. Sealed, the host answers no ARP on the
// bridge (arp_ignore 8), drops every IPv4 packet arriving there by strict reverse-path
// filtering (no route leads back through an address-less bridge), and has no IPv6 on it.
// Frames between the guests on the bridge are not touched. Thread-safe.
#ifndef LABRACK_WORKER_HYPERVISOR_BRIDGE_ISOLATION_H_
#define LABRACK_WORKER_HYPERVISOR_BRIDGE_ISOLATION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace labrack::worker {

// Writes the bridge's sysctls under `proc_sys` (default /proc/sys). InvalidArgument for a
// name that is not an interface name; Internal, naming the file, when one cannot be written.
absl::Status SealBridgeFromHost(const std::string& bridge,
                                const std::string& proc_sys = "/proc/sys");

// Deletes the bridge device when it still exists: libvirt leaves it when it was killed
// while starting or stopping its network. OK when there is none; Internal when `ip` fails.
absl::Status RemoveLeftoverBridge(const std::string& bridge);

// The bridges under `sys_class_net` named as labrack names them (IsBridgeName): devices
// with a bridge/ directory, so no tap or other interface of that form.
std::vector<std::string> ListLabrackBridges(const std::string& sys_class_net = "/sys/class/net");

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HYPERVISOR_BRIDGE_ISOLATION_H_
