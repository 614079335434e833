// Strict reading of YAML documents into protos, shared by topologies and image manifests:
// refuses unknown or repeated keys and values of the wrong type, and remembers the line of
// every field path it read so that a later validation error can name the line too.
// Not thread-safe: one YamlReader per document.
#ifndef LABRACK_COMMON_TOPOLOGY_YAML_READER_H_
#define LABRACK_COMMON_TOPOLOGY_YAML_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "yaml-cpp/yaml.h"

namespace labrack {

class YamlMap;
using KeyList = absl::Span<const absl::string_view>;
using ItemReader = std::function<absl::Status(const YAML::Node& item, const std::string& path)>;

// Largest YAML file read: topologies and manifests are a few KiB.
inline constexpr size_t kMaxYamlFileBytes = 1 << 20;
// Most values (map entries and list items) read from one document, counting every use of an
// alias anew. Aliases make a document a graph that reading walks as a tree: a list of N
// aliases of a node whose list holds N aliases is N*N values, so without this bound a few
// KiB of text take seconds and gigabytes. The largest valid topology holds about 6500.
inline constexpr size_t kMaxYamlValues = 20000;

// The bytes of the file at `path`. NotFound if it cannot be opened; InvalidArgument if it
// is larger than kMaxYamlFileBytes.
absl::StatusOr<std::string> ReadYamlFile(const std::string& path);

class YamlReader {
 public:
  // `source_name` starts every error message ("smoke.yaml:14: ...").
  explicit YamlReader(absl::string_view source_name) : source_(source_name) {}

  // Parses one document. InvalidArgument with yaml-cpp's message and line if malformed.
  absl::StatusOr<YAML::Node> Load(absl::string_view text);

  // Every method that reads values refuses the one past kMaxYamlValues with InvalidArgument.
  //
  // `node` must be a map whose keys are all in `allowed`, none twice, with all of `required`.
  absl::StatusOr<YamlMap> Map(const YAML::Node& node, const std::string& path, KeyList allowed,
                              KeyList required);
  // `node` must be a list; calls `item` for each element with its path ("path[i]").
  absl::Status List(const YAML::Node& node, const std::string& path, const ItemReader& item);
  // `node` must be a scalar; quoted or not.
  absl::StatusOr<std::string> String(const YAML::Node& node, const std::string& path);
  // `node` must be an unquoted decimal whole number from 0 to `max`.
  absl::StatusOr<uint64_t> Number(const YAML::Node& node, const std::string& path, uint64_t max);

  // InvalidArgument "source:line: path: rule" (no path part when `path` is empty), on the
  // line of `path` if this reader has seen it, else on the line of `node`.
  absl::Status ErrorAt(const YAML::Node& node, absl::string_view path,
                       absl::string_view rule) const;
  // Adds "source:line: " to an error of a validator whose message starts with a field path,
  // using the line of the longest part of that path this reader has seen.
  absl::Status Locate(const absl::Status& status) const;

 private:
  // As ErrorAt; `line` is 1-based, and left out of the message when not positive.
  absl::Status ErrorOnLine(int line, absl::string_view path, absl::string_view rule) const;
  void Remember(const std::string& path, const YAML::Node& node);
  // Counts one more value read, at `path`; InvalidArgument past kMaxYamlValues.
  absl::Status CountValue(const YAML::Node& node, const std::string& path);

  std::string source_;
  absl::flat_hash_map<std::string, int> lines_;  // field path -> 1-based line
  size_t values_ = 0;
};

// The entries of a checked map (see YamlReader::Map), read by key. Absent keys leave the
// output untouched, so callers set defaults first.
class YamlMap {
 public:
  YamlMap(YamlReader* reader, std::string path) : reader_(reader), path_(std::move(path)) {}

  absl::Status String(absl::string_view key, std::string* out) const;
  absl::Status Uint32(absl::string_view key, uint32_t* out) const;
  absl::Status Uint64(absl::string_view key, uint64_t* out) const;
  // Calls `item` for each element of the list under `key`.
  absl::Status List(absl::string_view key, const ItemReader& item) const;
  // The value of `key`, or nullptr when absent.
  const YAML::Node* Get(absl::string_view key) const;
  // "path.key"
  std::string PathOf(absl::string_view key) const;

 private:
  friend class YamlReader;
  absl::Status Number(absl::string_view key, uint64_t max, uint64_t* out) const;

  YamlReader* reader_;
  std::string path_;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
};

// Runs `f`, turning any yaml-cpp exception that escapes it into InvalidArgument naming
// `source`: yaml-cpp reports errors by throwing and our code never does.
template <typename F>
auto CatchYamlExceptions(absl::string_view source, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(std::string(source) + ": " + e.what());
  }
}

}  // namespace labrack

#endif  // LABRACK_COMMON_TOPOLOGY_YAML_READER_H_
