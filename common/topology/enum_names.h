// The words that stand for proto enum values in topology and image manifest YAML
// ("server", "direct-kernel", "qcow2"...), both ways. Pure functions; thread-safe.
#ifndef LABRACK_COMMON_TOPOLOGY_ENUM_NAMES_H_
#define LABRACK_COMMON_TOPOLOGY_ENUM_NAMES_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "labrack/v1/types.pb.h"

namespace labrack {

// "server", "switch", "storage", "router", "firewall", "workstation"; "" for others.
std::string RoleWord(v1::NodeRole role);
std::optional<v1::NodeRole> ParseRoleWord(absl::string_view word);
// "server, switch, storage, router, firewall, workstation", for error messages.
std::string AllRoleWords();

// "direct-kernel", "disk"; "" for others.
std::string BootModeWord(v1::BootMode mode);
std::optional<v1::BootMode> ParseBootModeWord(absl::string_view word);

// "kernel", "initrd", "disk"; "" for others.
std::string ArtifactKindWord(v1::ArtifactKind kind);
std::optional<v1::ArtifactKind> ParseArtifactKindWord(absl::string_view word);

}  // namespace labrack

#endif  // LABRACK_COMMON_TOPOLOGY_ENUM_NAMES_H_
