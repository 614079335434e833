// YAML -> Topology; see topology_yaml.h. Types and keys are checked while reading, the
// rules afterwards by ValidateTopology, whose errors get their line from the reader.
#include "common/topology/topology_yaml.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/topology/enum_names.h"
#include "common/topology/topology_validate.h"
#include "common/topology/yaml_reader.h"

namespace labrack {
namespace {

constexpr absl::string_view kTopologyKeys[] = {"name", "description", "networks", "nodes"};
constexpr absl::string_view kTopologyRequired[] = {"name", "nodes"};
constexpr absl::string_view kNetworkKeys[] = {"name", "cidr", "shape"};
constexpr absl::string_view kShapeKeys[] = {"bandwidth_kbps", "latency_ms", "loss_percent"};
constexpr absl::string_view kNodeKeys[] = {"name",       "role", "image", "vcpus",
                                           "memory_mib", "nics", "disks", "covers"};
constexpr absl::string_view kNodeRequired[] = {"name", "role", "image"};
constexpr absl::string_view kNicKeys[] = {"network", "address"};
constexpr absl::string_view kDiskKeys[] = {"name", "size_mib"};

// loss_percent is a decimal number ("0.5"); its range is checked by ValidateTopology.
absl::Status ReadLossPercent(YamlReader& reader, const YamlMap& map, v1::LinkShape* shape) {
  const YAML::Node* node = map.Get("loss_percent");
  if (node == nullptr) return absl::OkStatus();
  std::string path = map.PathOf("loss_percent");
  ASSIGN_OR_RETURN(std::string text, reader.String(*node, path));
  float loss = 0;
  if (!absl::SimpleAtof(text, &loss)) {
    return reader.ErrorAt(*node, path,
                          absl::StrCat("must be a number from 0 to 100, got \"", text, "\""));
  }
  shape->set_loss_percent(loss);
  return absl::OkStatus();
}

absl::Status ReadShape(YamlReader& reader, const YAML::Node& yaml, const std::string& path,
                       v1::LinkShape* shape) {
  ASSIGN_OR_RETURN(YamlMap map, reader.Map(yaml, path, kShapeKeys, {}));
  uint32_t bandwidth_kbps = 0;
  uint32_t latency_ms = 0;
  RETURN_IF_ERROR(map.Uint32("bandwidth_kbps", &bandwidth_kbps));
  RETURN_IF_ERROR(map.Uint32("latency_ms", &latency_ms));
  shape->set_bandwidth_kbps(bandwidth_kbps);
  shape->set_latency_ms(latency_ms);
  return ReadLossPercent(reader, map, shape);
}

absl::Status ReadNetwork(YamlReader& reader, const YAML::Node& yaml, const std::string& path,
                         v1::Network* network) {
  ASSIGN_OR_RETURN(YamlMap map, reader.Map(yaml, path, kNetworkKeys, {"name"}));
  RETURN_IF_ERROR(map.String("name", network->mutable_name()));
  RETURN_IF_ERROR(map.String("cidr", network->mutable_cidr()));
  const YAML::Node* shape = map.Get("shape");
  if (shape == nullptr) return absl::OkStatus();
  return ReadShape(reader, *shape, map.PathOf("shape"), network->mutable_shape());
}

absl::Status ReadNic(YamlReader& reader, const YAML::Node& yaml, const std::string& path,
                     v1::Nic* nic) {
  ASSIGN_OR_RETURN(YamlMap map, reader.Map(yaml, path, kNicKeys, {"network"}));
  RETURN_IF_ERROR(map.String("network", nic->mutable_network()));
  return map.String("address", nic->mutable_address());
}

absl::Status ReadDisk(YamlReader& reader, const YAML::Node& yaml, const std::string& path,
                      v1::Disk* disk) {
  ASSIGN_OR_RETURN(YamlMap map, reader.Map(yaml, path, kDiskKeys, kDiskKeys));
  RETURN_IF_ERROR(map.String("name", disk->mutable_name()));
  uint64_t size_mib = 0;
  RETURN_IF_ERROR(map.Uint64("size_mib", &size_mib));
  disk->set_size_mib(size_mib);
  return absl::OkStatus();
}

absl::Status ReadRole(YamlReader& reader, const YamlMap& map, v1::Node* node) {
  std::string word;
  RETURN_IF_ERROR(map.String("role", &word));
  std::optional<v1::NodeRole> role = ParseRoleWord(word);
  if (!role) {
    return reader.ErrorAt(
        *map.Get("role"), map.PathOf("role"),
        absl::StrCat("unknown role \"", word, "\" (must be one of: ", AllRoleWords(), ")"));
  }
  node->set_role(*role);
  return absl::OkStatus();
}

absl::Status ReadNode(YamlReader& reader, const YAML::Node& yaml, const std::string& path,
                      v1::Node* node) {
  ASSIGN_OR_RETURN(YamlMap map, reader.Map(yaml, path, kNodeKeys, kNodeRequired));
  RETURN_IF_ERROR(map.String("name", node->mutable_name()));
  RETURN_IF_ERROR(ReadRole(reader, map, node));
  RETURN_IF_ERROR(map.String("image", node->mutable_image()));
  uint32_t vcpus = kDefaultVcpus;
  uint32_t memory_mib = kDefaultMemoryMib;
  RETURN_IF_ERROR(map.Uint32("vcpus", &vcpus));
  RETURN_IF_ERROR(map.Uint32("memory_mib", &memory_mib));
  node->set_vcpus(vcpus);
  node->set_memory_mib(memory_mib);
  RETURN_IF_ERROR(map.List("nics", [&](const YAML::Node& item, const std::string& item_path) {
    return ReadNic(reader, item, item_path, node->add_nics());
  }));
  RETURN_IF_ERROR(map.List("disks", [&](const YAML::Node& item, const std::string& item_path) {
    return ReadDisk(reader, item, item_path, node->add_disks());
  }));
  return map.List("covers", [&](const YAML::Node& item, const std::string& item_path) {
    ASSIGN_OR_RETURN(*node->add_covers(), reader.String(item, item_path));
    return absl::OkStatus();
  });
}

absl::Status ReadTopology(YamlReader& reader, const YAML::Node& root, v1::Topology* topology) {
  ASSIGN_OR_RETURN(YamlMap map, reader.Map(root, "", kTopologyKeys, kTopologyRequired));
  RETURN_IF_ERROR(map.String("name", topology->mutable_name()));
  RETURN_IF_ERROR(map.String("description", topology->mutable_description()));
  RETURN_IF_ERROR(map.List("networks", [&](const YAML::Node& item, const std::string& path) {
    return ReadNetwork(reader, item, path, topology->add_networks());
  }));
  return map.List("nodes", [&](const YAML::Node& item, const std::string& path) {
    return ReadNode(reader, item, path, topology->add_nodes());
  });
}

}  // namespace

absl::StatusOr<v1::Topology> ParseTopologyYaml(absl::string_view yaml_text,
                                               absl::string_view source_name) {
  return CatchYamlExceptions(source_name, [&]() -> absl::StatusOr<v1::Topology> {
    YamlReader reader(source_name);
    ASSIGN_OR_RETURN(YAML::Node root, reader.Load(yaml_text));
    v1::Topology topology;
    RETURN_IF_ERROR(ReadTopology(reader, root, &topology));
    RETURN_IF_ERROR(reader.Locate(ValidateTopology(topology)));
    return topology;
  });
}

absl::StatusOr<v1::Topology> LoadTopologyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadYamlFile(path));
  return ParseTopologyYaml(text, path);
}

}  // namespace labrack
