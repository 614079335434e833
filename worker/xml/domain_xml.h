// libvirt domain XML for a labrack guest, built from a DomainSpec and read back from what
// libvirt dumps: direct kernel boot or disk boot, qcow2 overlays with explicit backing
// formats, isolated-network NICs, a logged serial console, no graphics. Pure functions;
// thread-safe.
#ifndef LABRACK_WORKER_XML_DOMAIN_XML_H_
#define LABRACK_WORKER_XML_DOMAIN_XML_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "worker/hypervisor/types.h"

namespace labrack::worker {

// The cache mode of every disk (libvirt applies it to the whole backing chain). writeback
// honours the guest's flushes, needs no O_DIRECT (works on tmpfs), and lets the many
// overlays on one read-only base image share the host's page cache for it.
inline constexpr char kDiskCacheMode[] = "writeback";

// The <domain> document for `spec`. Values are escaped by construction; names and paths are
// expected to have been validated by the caller. A disk's backing file is never relabelled
// by libvirt: it must be readable by the qemu user as it is (world-readable).
std::string BuildDomainXml(const DomainSpec& spec);

struct ParsedDomain {
  DomainSpec spec;  // spec.tag is empty when has_tag is false
  bool has_tag = false;
};

// Reads a domain document (ours, or libvirt's dump of it) back into a spec. Only what a
// DomainSpec holds is read; what libvirt adds (uuid, addresses, machine version...) is
// ignored. InvalidArgument when the XML is not well-formed, the type is not kvm or qemu,
// a number or unit is malformed, a disk is not a file with an explicit qcow2/raw format,
// or a NIC is not on a libvirt network; a malformed tag is InvalidArgument too.
absl::StatusOr<ParsedDomain> ParseDomainXml(absl::string_view xml);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_XML_DOMAIN_XML_H_
