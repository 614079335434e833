// ValidateImageManifest (declared in manifest_yaml.h): the rules an image manifest must
// follow before a worker imports or boots it. Messages start with the field path.
#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "common/topology/enum_names.h"
#include "common/topology/manifest_yaml.h"
#include "common/topology/topology_validate.h"

namespace labrack {
namespace {

constexpr size_t kMaxVersion = 64;
constexpr size_t kMaxSerialMarker = 64;
// Linux's x86 command line holds 2048 bytes; leave room for the worker's labrack.* words.
constexpr size_t kMaxCmdline = 1024;
// Backing disks below an image's disk: a capture of a captured image adds one level.
constexpr int kMaxBackingDisks = 8;

absl::Status Invalid(absl::string_view path, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", rule));
}

absl::Status InvalidValue(absl::string_view path, absl::string_view value, absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, " \"", absl::CHexEscape(value.substr(0, 80)), "\": ", rule));
}

bool IsPrintableAscii(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isprint(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status ValidateVersion(absl::string_view version) {
  bool ok = !version.empty() && version.size() <= kMaxVersion;
  for (char c : version) {
    ok = ok && (absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '+' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return InvalidValue("version", version,
                      "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '+' and '-'");
}

absl::Status ValidateTexts(const v1::ImageManifest& manifest) {
  const std::string& marker = manifest.readiness().serial_marker();
  if (marker.empty() || marker.size() > kMaxSerialMarker || !IsPrintableAscii(marker)) {
    return InvalidValue("readiness.serial_marker", marker,
                        "must be 1 to 64 printable ASCII characters");
  }
  if (manifest.cmdline().size() > kMaxCmdline || !IsPrintableAscii(manifest.cmdline())) {
    return InvalidValue("cmdline", manifest.cmdline(),
                        "must be at most 1024 printable ASCII characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateDefaultsAndRoles(const v1::ImageManifest& manifest) {
  uint32_t vcpus = manifest.default_vcpus();
  if (vcpus > kMaxVcpus) {
    return Invalid("default_vcpus", absl::StrCat("must be 1 to ", kMaxVcpus, ", got ", vcpus));
  }
  uint32_t memory = manifest.default_memory_mib();
  if (memory != 0 && (memory < kMinMemoryMib || memory > kMaxMemoryMib)) {
    return Invalid("default_memory_mib", absl::StrCat("must be ", kMinMemoryMib, " to ",
                                                      kMaxMemoryMib, " MiB, got ", memory));
  }
  if (!manifest.guest_agent().empty() && manifest.guest_agent() != "qemu-ga") {
    return Invalid("guest_agent", "must be qemu-ga or absent");
  }
  for (int i = 0; i < manifest.roles_size(); ++i) {
    v1::NodeRole role = manifest.roles(i);
    if (role == v1::NODE_ROLE_UNSPECIFIED || !v1::NodeRole_IsValid(role)) {
      return Invalid(absl::StrCat("roles[", i, "]"),
                     absl::StrCat("must be one of: ", AllRoleWords()));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateArtifact(const v1::ImageArtifact& artifact, const std::string& path) {
  if (ArtifactKindWord(artifact.kind()).empty()) {
    return Invalid(path + ".kind", "must be one of: kernel, initrd, disk, backing-disk");
  }
  RETURN_IF_ERROR(ValidateFileName(path + ".file", artifact.file()));
  RETURN_IF_ERROR(ValidateSha256(path + ".sha256", artifact.sha256()));
  bool is_disk = artifact.kind() == v1::ARTIFACT_KIND_DISK ||
                 artifact.kind() == v1::ARTIFACT_KIND_BACKING_DISK;
  if (is_disk && artifact.format() != "qcow2" && artifact.format() != "raw") {
    return InvalidValue(path + ".format", artifact.format(),
                        "a disk's format must be given and be qcow2 or raw");
  }
  if (!is_disk && !artifact.format().empty()) {
    return InvalidValue(path + ".format", artifact.format(), "only disks have a format");
  }
  return absl::OkStatus();
}

absl::Status ValidateArtifactCounts(const v1::ImageManifest& manifest,
                                    const absl::flat_hash_map<int, int>& count) {
  auto n = [&](v1::ArtifactKind kind) { return count.contains(kind) ? count.at(kind) : 0; };
  if (n(v1::ARTIFACT_KIND_DISK) != 1) {
    return Invalid("artifacts", absl::StrCat("must hold exactly one disk artifact, got ",
                                             n(v1::ARTIFACT_KIND_DISK)));
  }
  if (manifest.boot_mode() == v1::BOOT_MODE_DIRECT_KERNEL) {
    if (n(v1::ARTIFACT_KIND_KERNEL) != 1 || n(v1::ARTIFACT_KIND_INITRD) > 1) {
      return Invalid(
          "artifacts",
          absl::StrCat("boot_mode direct-kernel needs exactly one kernel and at "
                       "most one initrd, got ",
                       n(v1::ARTIFACT_KIND_KERNEL), " and ", n(v1::ARTIFACT_KIND_INITRD)));
    }
  } else if (n(v1::ARTIFACT_KIND_KERNEL) + n(v1::ARTIFACT_KIND_INITRD) > 0) {
    return Invalid("artifacts", "boot_mode disk takes no kernel or initrd");
  }
  return absl::OkStatus();
}

// A layered image's chain: its disk, then its backing disks in order. Every level above
// another is a qcow2 overlay, and no file appears twice (a chain never loops).
absl::Status ValidateBackingChain(const v1::ImageManifest& manifest) {
  // Exactly one disk (checked before): the top of the chain.
  const v1::ImageArtifact* above = &*std::find_if(
      manifest.artifacts().begin(), manifest.artifacts().end(),
      [](const v1::ImageArtifact& a) { return a.kind() == v1::ARTIFACT_KIND_DISK; });
  absl::flat_hash_map<std::string, std::string> seen = {{above->sha256(), above->file()}};
  int depth = 0;
  for (int i = 0; i < manifest.artifacts_size(); ++i) {
    const v1::ImageArtifact& a = manifest.artifacts(i);
    if (a.kind() != v1::ARTIFACT_KIND_BACKING_DISK) continue;
    std::string path = absl::StrCat("artifacts[", i, "]");
    if (++depth > kMaxBackingDisks) {
      return Invalid("artifacts", absl::StrCat("at most ", kMaxBackingDisks, " backing disks"));
    }
    if (above->format() != "qcow2") {
      return Invalid(path, absl::StrCat("only a qcow2 disk has a backing disk, and \"",
                                        above->file(), "\" above it is ", above->format()));
    }
    auto [it, inserted] = seen.try_emplace(a.sha256(), a.file());
    if (!inserted) {
      return Invalid(path + ".sha256", absl::StrCat("a backing chain holds each disk once, and \"",
                                                    it->second, "\" has the same sha256"));
    }
    above = &a;
  }
  return absl::OkStatus();
}

absl::Status ValidateArtifacts(const v1::ImageManifest& manifest) {
  absl::flat_hash_map<std::string, int> first;
  absl::flat_hash_map<int, int> count;  // by kind
  for (int i = 0; i < manifest.artifacts_size(); ++i) {
    const v1::ImageArtifact& artifact = manifest.artifacts(i);
    std::string path = absl::StrCat("artifacts[", i, "]");
    RETURN_IF_ERROR(ValidateArtifact(artifact, path));
    auto [it, inserted] = first.try_emplace(artifact.file(), i);
    if (!inserted) {
      return Invalid(path + ".file", absl::StrCat("duplicate file \"", artifact.file(),
                                                  "\" (also artifacts[", it->second, "])"));
    }
    ++count[artifact.kind()];
  }
  RETURN_IF_ERROR(ValidateArtifactCounts(manifest, count));
  return ValidateBackingChain(manifest);
}

}  // namespace

absl::Status ValidateImageManifest(const v1::ImageManifest& manifest) {
  RETURN_IF_ERROR(ValidateImageName("name", manifest.name()));
  RETURN_IF_ERROR(ValidateVersion(manifest.version()));
  if (BootModeWord(manifest.boot_mode()).empty()) {
    return Invalid("boot_mode", "must be one of: direct-kernel, disk");
  }
  RETURN_IF_ERROR(ValidateTexts(manifest));
  RETURN_IF_ERROR(ValidateDefaultsAndRoles(manifest));
  return ValidateArtifacts(manifest);
}

}  // namespace labrack
