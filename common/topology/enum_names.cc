// Word tables for the enums of types.proto used in YAML; see enum_names.h.
#include "common/topology/enum_names.h"

#include <utility>

#include "absl/strings/str_join.h"

namespace labrack {
namespace {

template <typename E>
using WordTable = std::initializer_list<std::pair<E, absl::string_view>>;

constexpr WordTable<v1::NodeRole> kRoles = {
    {v1::NODE_ROLE_SERVER, "server"},     {v1::NODE_ROLE_SWITCH, "switch"},
    {v1::NODE_ROLE_STORAGE, "storage"},   {v1::NODE_ROLE_ROUTER, "router"},
    {v1::NODE_ROLE_FIREWALL, "firewall"}, {v1::NODE_ROLE_WORKSTATION, "workstation"},
};
constexpr WordTable<v1::BootMode> kBootModes = {
    {v1::BOOT_MODE_DIRECT_KERNEL, "direct-kernel"},
    {v1::BOOT_MODE_DISK, "disk"},
};
constexpr WordTable<v1::ArtifactKind> kArtifactKinds = {
    {v1::ARTIFACT_KIND_KERNEL, "kernel"},
    {v1::ARTIFACT_KIND_INITRD, "initrd"},
    {v1::ARTIFACT_KIND_DISK, "disk"},
    {v1::ARTIFACT_KIND_BACKING_DISK, "backing-disk"},
};

template <typename E>
std::string WordOf(WordTable<E> table, E value) {
  for (const auto& [v, word] : table) {
    if (v == value) return std::string(word);
  }
  return "";
}

template <typename E>
std::optional<E> ValueOf(WordTable<E> table, absl::string_view word) {
  for (const auto& [v, w] : table) {
    if (w == word) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string RoleWord(v1::NodeRole role) { return WordOf(kRoles, role); }
std::optional<v1::NodeRole> ParseRoleWord(absl::string_view word) { return ValueOf(kRoles, word); }
std::string AllRoleWords() {
  return absl::StrJoin(kRoles, ", ", [](std::string* out, const auto& entry) {
    out->append(entry.second.data(), entry.second.size());
  });
}

std::string BootModeWord(v1::BootMode mode) { return WordOf(kBootModes, mode); }
std::optional<v1::BootMode> ParseBootModeWord(absl::string_view word) {
  return ValueOf(kBootModes, word);
}

std::string ArtifactKindWord(v1::ArtifactKind kind) { return WordOf(kArtifactKinds, kind); }
std::optional<v1::ArtifactKind> ParseArtifactKindWord(absl::string_view word) {
  return ValueOf(kArtifactKinds, word);
}

}  // namespace labrack
