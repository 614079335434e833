// YAML <-> ImageManifest; see manifest_yaml.h. The rules live in manifest_validate.cc.
#include "common/topology/manifest_yaml.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/topology/enum_names.h"
#include "common/topology/yaml_reader.h"

namespace labrack {
namespace {

constexpr absl::string_view kManifestKeys[] = {
    "name",  "version",  "boot_mode", "cmdline", "readiness", "default_vcpus", "default_memory_mib",
    "roles", "guest_agent", "artifacts"};
constexpr absl::string_view kManifestRequired[] = {"name", "version", "boot_mode", "readiness",
                                                   "artifacts"};
constexpr absl::string_view kReadinessKeys[] = {"serial_marker"};
constexpr absl::string_view kArtifactKeys[] = {"kind", "file", "sha256", "size_bytes", "format"};
constexpr absl::string_view kArtifactRequired[] = {"kind", "file", "sha256", "size_bytes"};

// Reads the word under `key` and maps it with `parse`, or names the words it accepts.
template <typename E, typename Parse>
absl::Status ReadWord(YamlReader& reader, const YAML::Node& yaml, const std::string& path,
                      Parse parse, absl::string_view allowed, E* out) {
  ASSIGN_OR_RETURN(std::string word, reader.String(yaml, path));
  std::optional<E> value = parse(word);
  if (!value) {
    return reader.ErrorAt(
        yaml, path, absl::StrCat("unknown value \"", word, "\" (must be one of: ", allowed, ")"));
  }
  *out = *value;
  return absl::OkStatus();
}

absl::Status ReadArtifact(YamlReader& reader, const YAML::Node& yaml, const std::string& path,
                          v1::ImageArtifact* artifact) {
  ASSIGN_OR_RETURN(YamlMap map, reader.Map(yaml, path, kArtifactKeys, kArtifactRequired));
  v1::ArtifactKind kind = v1::ARTIFACT_KIND_UNSPECIFIED;
  RETURN_IF_ERROR(ReadWord(reader, *map.Get("kind"), map.PathOf("kind"), ParseArtifactKindWord,
                           "kernel, initrd, disk, backing-disk", &kind));
  artifact->set_kind(kind);
  RETURN_IF_ERROR(map.String("file", artifact->mutable_file()));
  RETURN_IF_ERROR(map.String("sha256", artifact->mutable_sha256()));
  RETURN_IF_ERROR(map.String("format", artifact->mutable_format()));
  uint64_t size_bytes = 0;
  RETURN_IF_ERROR(map.Uint64("size_bytes", &size_bytes));
  artifact->set_size_bytes(size_bytes);
  return absl::OkStatus();
}

absl::Status ReadRoles(YamlReader& reader, const YamlMap& map, v1::ImageManifest* manifest) {
  return map.List("roles", [&](const YAML::Node& item, const std::string& path) {
    v1::NodeRole role = v1::NODE_ROLE_UNSPECIFIED;
    RETURN_IF_ERROR(ReadWord(reader, item, path, ParseRoleWord, AllRoleWords(), &role));
    manifest->add_roles(role);
    return absl::OkStatus();
  });
}

absl::Status ReadManifest(YamlReader& reader, const YAML::Node& root, v1::ImageManifest* out) {
  ASSIGN_OR_RETURN(YamlMap map, reader.Map(root, "", kManifestKeys, kManifestRequired));
  RETURN_IF_ERROR(map.String("name", out->mutable_name()));
  RETURN_IF_ERROR(map.String("version", out->mutable_version()));
  v1::BootMode boot_mode = v1::BOOT_MODE_UNSPECIFIED;
  RETURN_IF_ERROR(ReadWord(reader, *map.Get("boot_mode"), map.PathOf("boot_mode"),
                           ParseBootModeWord, "direct-kernel, disk", &boot_mode));
  out->set_boot_mode(boot_mode);
  RETURN_IF_ERROR(map.String("cmdline", out->mutable_cmdline()));
  ASSIGN_OR_RETURN(YamlMap readiness, reader.Map(*map.Get("readiness"), map.PathOf("readiness"),
                                                 kReadinessKeys, kReadinessKeys));
  RETURN_IF_ERROR(
      readiness.String("serial_marker", out->mutable_readiness()->mutable_serial_marker()));
  uint32_t vcpus = 0;
  uint32_t memory_mib = 0;
  RETURN_IF_ERROR(map.Uint32("default_vcpus", &vcpus));
  RETURN_IF_ERROR(map.Uint32("default_memory_mib", &memory_mib));
  out->set_default_vcpus(vcpus);
  out->set_default_memory_mib(memory_mib);
  RETURN_IF_ERROR(ReadRoles(reader, map, out));
  RETURN_IF_ERROR(map.String("guest_agent", out->mutable_guest_agent()));
  return map.List("artifacts", [&](const YAML::Node& item, const std::string& path) {
    return ReadArtifact(reader, item, path, out->add_artifacts());
  });
}

void EmitArtifact(YAML::Emitter& out, const v1::ImageArtifact& artifact) {
  out << YAML::BeginMap;
  out << YAML::Key << "kind" << YAML::Value << ArtifactKindWord(artifact.kind());
  out << YAML::Key << "file" << YAML::Value << YAML::DoubleQuoted << artifact.file();
  if (!artifact.format().empty()) {
    out << YAML::Key << "format" << YAML::Value << YAML::DoubleQuoted << artifact.format();
  }
  out << YAML::Key << "sha256" << YAML::Value << YAML::DoubleQuoted << artifact.sha256();
  out << YAML::Key << "size_bytes" << YAML::Value << artifact.size_bytes();
  out << YAML::EndMap;
}

// Writes `key: value` unless `value` is 0, the proto default.
void EmitNumberIfSet(YAML::Emitter& out, const char* key, uint64_t value) {
  if (value != 0) out << YAML::Key << key << YAML::Value << value;
}

}  // namespace

absl::StatusOr<v1::ImageManifest> ParseImageManifestYaml(absl::string_view yaml_text,
                                                         absl::string_view source_name) {
  return CatchYamlExceptions(source_name, [&]() -> absl::StatusOr<v1::ImageManifest> {
    YamlReader reader(source_name);
    ASSIGN_OR_RETURN(YAML::Node root, reader.Load(yaml_text));
    v1::ImageManifest manifest;
    RETURN_IF_ERROR(ReadManifest(reader, root, &manifest));
    RETURN_IF_ERROR(reader.Locate(ValidateImageManifest(manifest)));
    return manifest;
  });
}

absl::StatusOr<v1::ImageManifest> LoadImageManifestFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadYamlFile(path));
  return ParseImageManifestYaml(text, path);
}

std::string ImageManifestToYaml(const v1::ImageManifest& manifest) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << manifest.name();
  out << YAML::Key << "version" << YAML::Value << YAML::DoubleQuoted << manifest.version();
  out << YAML::Key << "boot_mode" << YAML::Value << BootModeWord(manifest.boot_mode());
  if (!manifest.cmdline().empty()) {
    out << YAML::Key << "cmdline" << YAML::Value << YAML::DoubleQuoted << manifest.cmdline();
  }
  out << YAML::Key << "readiness" << YAML::Value << YAML::BeginMap << YAML::Key << "serial_marker"
      << YAML::Value << YAML::DoubleQuoted << manifest.readiness().serial_marker() << YAML::EndMap;
  EmitNumberIfSet(out, "default_vcpus", manifest.default_vcpus());
  EmitNumberIfSet(out, "default_memory_mib", manifest.default_memory_mib());
  out << YAML::Key << "roles" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (int role : manifest.roles()) out << RoleWord(static_cast<v1::NodeRole>(role));
  out << YAML::EndSeq;
  if (!manifest.guest_agent().empty()) {
    out << YAML::Key << "guest_agent" << YAML::Value << manifest.guest_agent();
  }
  out << YAML::Key << "artifacts" << YAML::Value << YAML::BeginSeq;
  for (const v1::ImageArtifact& artifact : manifest.artifacts()) EmitArtifact(out, artifact);
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace labrack
