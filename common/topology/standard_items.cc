// Reading and checking the work-item catalogue; see standard_items.h. The built-in text is
// defined in a source file generated at build time by cmake/EmbedText.cmake.
#include "common/topology/standard_items.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "common/topology/yaml_reader.h"

namespace labrack {

extern const char kStandardItemsYaml[];  // generated: standard_items_data.cc

namespace {

constexpr absl::string_view kRootKeys[] = {"items"};
constexpr absl::string_view kItemKeys[] = {"id", "level", "direction", "description"};
constexpr absl::string_view kItemRequired[] = {"id", "level", "description"};
constexpr char kBuiltInSource[] = "topologies/standard-items.yaml (built in)";

// "3.3.1": at least two dot-separated groups of digits.
bool IsItemNumber(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() < 2) return false;
  for (absl::string_view part : parts) {
    if (part.empty() || part.size() > 3) return false;
    for (char c : part) {
      if (!absl::ascii_isdigit(c)) return false;
    }
  }
  return true;
}

// Empty when `item` is consistent, else the rule it breaks.
std::string ItemRule(const StandardItem& item) {
  if (item.level != "junior" && item.level != "intermediate" && item.level != "senior") {
    return absl::StrCat("level \"", absl::CHexEscape(item.level),
                        "\" must be junior, intermediate or senior");
  }
  bool senior = item.level == "senior";
  if (senior && !item.direction.empty()) return "senior items have no direction";
  if (!senior && item.direction != "ops" && item.direction != "dev") {
    return absl::StrCat("direction \"", absl::CHexEscape(item.direction), "\" must be ops or dev");
  }
  std::string prefix = senior ? item.level : absl::StrCat(item.level, ".", item.direction);
  absl::string_view id = item.id;
  if (!absl::ConsumePrefix(&id, prefix + ".") || !IsItemNumber(id)) {
    return absl::StrCat("id \"", absl::CHexEscape(item.id), "\" must be ", prefix,
                        ".<item number> such as ", prefix, ".3.3.1");
  }
  if (absl::StripAsciiWhitespace(item.description).empty()) return "description must not be empty";
  return "";
}

absl::Status ReadItem(YamlReader& reader, const YAML::Node& yaml, const std::string& path,
                      std::vector<StandardItem>* items) {
  ASSIGN_OR_RETURN(YamlMap map, reader.Map(yaml, path, kItemKeys, kItemRequired));
  StandardItem item;
  RETURN_IF_ERROR(map.String("id", &item.id));
  RETURN_IF_ERROR(map.String("level", &item.level));
  RETURN_IF_ERROR(map.String("direction", &item.direction));
  RETURN_IF_ERROR(map.String("description", &item.description));
  std::string rule = ItemRule(item);
  if (!rule.empty()) return reader.ErrorAt(yaml, path, rule);
  items->push_back(std::move(item));
  return absl::OkStatus();
}

absl::Status CheckUniqueIds(YamlReader& reader, const std::vector<StandardItem>& items) {
  absl::flat_hash_map<std::string, size_t> first;
  for (size_t i = 0; i < items.size(); ++i) {
    auto [it, inserted] = first.try_emplace(items[i].id, i);
    if (inserted) continue;
    std::string path = absl::StrCat("items[", i, "].id");
    return reader.Locate(absl::InvalidArgumentError(
        absl::StrCat(path, ": duplicate id \"", items[i].id, "\" (also items[", it->second, "])")));
  }
  return absl::OkStatus();
}

}  // namespace

StandardCatalogue::StandardCatalogue(std::vector<StandardItem> items) : items_(std::move(items)) {
  for (size_t i = 0; i < items_.size(); ++i) by_id_.try_emplace(items_[i].id, i);
}

const StandardItem* StandardCatalogue::Find(absl::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &items_[it->second];
}

absl::StatusOr<StandardCatalogue> ParseStandardCatalogue(absl::string_view yaml_text,
                                                         absl::string_view source_name) {
  return CatchYamlExceptions(source_name, [&]() -> absl::StatusOr<StandardCatalogue> {
    YamlReader reader(source_name);
    ASSIGN_OR_RETURN(YAML::Node root, reader.Load(yaml_text));
    ASSIGN_OR_RETURN(YamlMap map, reader.Map(root, "", kRootKeys, kRootKeys));
    std::vector<StandardItem> items;
    RETURN_IF_ERROR(map.List("items", [&](const YAML::Node& item, const std::string& path) {
      return ReadItem(reader, item, path, &items);
    }));
    if (items.empty()) return reader.ErrorAt(root, "items", "must list at least one item");
    RETURN_IF_ERROR(CheckUniqueIds(reader, items));
    return StandardCatalogue(std::move(items));
  });
}

absl::string_view BuiltInStandardCatalogueYaml() { return kStandardItemsYaml; }

const absl::StatusOr<StandardCatalogue>& BuiltInStandardCatalogue() {
  static const auto* const catalogue = [] {
    absl::StatusOr<StandardCatalogue> parsed =
        ParseStandardCatalogue(BuiltInStandardCatalogueYaml(), kBuiltInSource);
    if (!parsed.ok()) parsed = absl::InternalError(parsed.status().message());
    return new absl::StatusOr<StandardCatalogue>(std::move(parsed));
  }();
  return *catalogue;
}

}  // namespace labrack
