// The catalogue of the standard's work items that need lab hardware
// (topologies/standard-items.yaml): reading and validating it, and the copy compiled into
// this library so that every binary checks `covers:` lists against the same items.
// Pure functions and an immutable value type; thread-safe.
#ifndef LABRACK_COMMON_TOPOLOGY_STANDARD_ITEMS_H_
#define LABRACK_COMMON_TOPOLOGY_STANDARD_ITEMS_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labrack {

// One professional-ability item of the standard.
struct StandardItem {
  std::string id;           // "junior.ops.3.3.1", "senior.3.3.1"
  std::string level;        // "junior", "intermediate" or "senior"
  std::string direction;    // "ops" or "dev"; empty for senior
  std::string description;  // one line of English
  // "junior ops", "senior": the heading coverage reports group items under.
  std::string Group() const { return direction.empty() ? level : level + " " + direction; }
};

class StandardCatalogue {
 public:
  explicit StandardCatalogue(std::vector<StandardItem> items);

  // In file order, which groups items by level and direction.
  const std::vector<StandardItem>& items() const { return items_; }
  // The item with this id, or nullptr.
  const StandardItem* Find(absl::string_view id) const;

 private:
  std::vector<StandardItem> items_;
  absl::flat_hash_map<std::string, size_t> by_id_;
};

// Parses a catalogue: a map with one key `items`, a list of maps with keys id, level,
// direction (optional for senior) and description. InvalidArgument "source:line: path: rule"
// for malformed YAML, unknown keys, a duplicate id, an id that does not spell
// <level>.<direction>.<number> (senior.<number> for senior), an unknown level or direction,
// or an empty description.
absl::StatusOr<StandardCatalogue> ParseStandardCatalogue(absl::string_view yaml_text,
                                                         absl::string_view source_name);

// The text of topologies/standard-items.yaml as it was at build time.
absl::string_view BuiltInStandardCatalogueYaml();

// The built-in catalogue, parsed once on first use. Internal if the compiled-in file is
// invalid (standard_items_test fails the build's tests in that case).
const absl::StatusOr<StandardCatalogue>& BuiltInStandardCatalogue();

}  // namespace labrack

#endif  // LABRACK_COMMON_TOPOLOGY_STANDARD_ITEMS_H_
