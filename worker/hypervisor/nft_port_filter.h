// labrack's anti-spoofing for guest NICs, in place of libvirt's nwfilter clean-traffic: the
// nftables script that makes a sandbox's port filter (one table in the bridge family) and
// the reading of `nft list ruleset bridge` back into the port filters present. Pure
// functions; thread-safe.
#ifndef LABRACK_WORKER_HYPERVISOR_NFT_PORT_FILTER_H_
#define LABRACK_WORKER_HYPERVISOR_NFT_PORT_FILTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "worker/hypervisor/types.h"

namespace labrack::worker {

// lr-<sandbox8>, in the bridge family.
std::string PortFilterTableName(absl::string_view sandbox_id);
// Whether `name` has PortFilterTableName's form: lr- and 8 lowercase hex digits.
bool IsPortFilterTableName(absl::string_view name);

// An nft script (for `nft -f -`) that replaces the sandbox's table, or makes it, in one
// transaction: either the whole new table is in place or the old one still is. Each port
// gets its own chain; frames of an unknown tap pass. InvalidArgument, naming the field,
// for an invalid sandbox or host id, a tap that is not an interface name (or is named
// twice), a MAC that is not a unicast lowercase aa:bb:cc:dd:ee:ff, or an address that is
// not dotted IPv4.
absl::StatusOr<std::string> BuildPortFilterScript(const PortFilterSpec& spec);

// An nft script that deletes the sandbox's table and succeeds when there is none.
std::string BuildPortFilterDeleteScript(absl::string_view sandbox_id);

// The labrack tables (IsPortFilterTableName) in `nft list ruleset bridge` output, with the
// host and sandbox their comment names.
std::vector<PortFilterInfo> ParsePortFilterTables(absl::string_view listing);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HYPERVISOR_NFT_PORT_FILTER_H_
