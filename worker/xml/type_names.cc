// Text forms of labrack's enums as libvirt spells them, both ways.
// Pure functions; thread-safe.
#include "worker/xml/type_names.h"

#include "absl/strings/str_cat.h"

namespace labrack::worker {

const char* DiskFormatName(DiskFormat format) {
  switch (format) {
    case DiskFormat::kQcow2:
      return "qcow2";
    case DiskFormat::kRaw:
      return "raw";
  }
  return "qcow2";  // unreachable with a valid enum value
}

const char* DomainTypeName(DomainType type) {
  switch (type) {
    case DomainType::kKvm:
      return "kvm";
    case DomainType::kQemu:
      return "qemu";
  }
  return "qemu";  // unreachable with a valid enum value
}

absl::StatusOr<DiskFormat> ParseDiskFormat(absl::string_view field, absl::string_view name) {
  if (name == "qcow2") return DiskFormat::kQcow2;
  if (name == "raw") return DiskFormat::kRaw;
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": disk format '", name, "' is not qcow2 or raw"));
}

absl::StatusOr<DomainType> ParseDomainType(absl::string_view field, absl::string_view name) {
  if (name == "kvm") return DomainType::kKvm;
  if (name == "qemu") return DomainType::kQemu;
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": domain type '", name, "' is not kvm or qemu"));
}

}  // namespace labrack::worker
