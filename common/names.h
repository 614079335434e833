// Validation of every name that comes from a user or a peer (sandbox id, node, network,
// image, candidate) before it reaches a path, an XML document or a libvirt call, and the
// deterministic libvirt names derived from them. Pure functions; thread-safe.
#ifndef LABRACK_COMMON_NAMES_H_
#define LABRACK_COMMON_NAMES_H_

#include <set>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace labrack {

// Each returns OK or InvalidArgument naming `field` and the rule that was broken.
//
// Sandbox id: 8 to 64 characters of [0-9a-f-], the first 8 hex (a UUID fits).
absl::Status ValidateSandboxId(absl::string_view field, absl::string_view id);
// Node and network names: 1 to 24 characters of [a-z0-9-], starting with a letter and not
// ending with '-'. Short enough that lr-<sandbox8>-<name> stays readable.
absl::Status ValidateObjectName(absl::string_view field, absl::string_view name);
// Image names: 1 to 64 characters of [a-z0-9._-], starting with a letter or digit; never a
// path (no '/', no "..").
absl::Status ValidateImageName(absl::string_view field, absl::string_view name);
// Candidate ids and session ids: 1 to 64 characters of [A-Za-z0-9._@-], starting with a
// letter or digit.
absl::Status ValidateCandidateId(absl::string_view field, absl::string_view id);
// Session and pool names: 1 to 63 characters of [a-z0-9-], starting with a letter or digit
// (session names name evidence folders).
absl::Status ValidateSessionName(absl::string_view field, absl::string_view name);
// Lowercase hex SHA-256 (64 characters).
absl::Status ValidateSha256(absl::string_view field, absl::string_view hex);
// A crypt(3) hash as labrack makes them ("$6$<salt>$<hash>"): '$' then up to 255 characters
// of [A-Za-z0-9./$]. It goes onto a kernel command line, where a space would add arguments.
absl::Status ValidatePasswordHash(absl::string_view field, absl::string_view hash);
// A plain file name inside one folder: [A-Za-z0-9._-], 1 to 128, not "." or "..".
absl::Status ValidateFileName(absl::string_view field, absl::string_view name);

// A choice of a sandbox's nodes (e.g. the nodes of a reset): each entry a valid name, one of
// `known`, named once; the error names nodes[i] and the sandbox.
absl::Status ValidateNodeChoice(absl::string_view sandbox_id, const std::set<std::string>& known,
                                const std::vector<std::string>& nodes);

// The first 8 hex characters of a valid sandbox id.
std::string Sandbox8(absl::string_view sandbox_id);
// lr-<sandbox8>-<node>
std::string DomainName(absl::string_view sandbox_id, absl::string_view node);
// lr-<sandbox8>-<network>
std::string NetworkName(absl::string_view sandbox_id, absl::string_view network);
// lr<sandbox8><index>: at most 15 characters, Linux's limit for interface names.
std::string BridgeName(absl::string_view sandbox_id, int network_index);
// Whether `name` has BridgeName's form: lr, 8 lowercase hex digits, then decimal digits.
bool IsBridgeName(absl::string_view name);
// InvalidArgument naming `field` unless IsBridgeName(name).
absl::Status ValidateBridgeName(absl::string_view field, absl::string_view name);
// lr<sandbox8>v<node index><NIC index>, each index two hex digits: the host-side tap of a
// NIC that labrack shapes with tc (15 characters; indexes must be below 256).
std::string TapName(absl::string_view sandbox_id, int node_index, int nic_index);
// Prefix shared by every libvirt object labrack names.
inline constexpr absl::string_view kObjectPrefix = "lr-";

}  // namespace labrack

#endif  // LABRACK_COMMON_NAMES_H_
