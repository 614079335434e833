// Coverage of the catalogue by topologies; see topology_coverage.h.
#include "cli/topology_coverage.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/output.h"

namespace labrack::cli {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

Value StringValue(const std::string& text) {
  Value value;
  value.set_string_value(text);
  return value;
}

Value NumberValue(double number) {
  Value value;
  value.set_number_value(number);
  return value;
}

// An object value with the given string fields.
Value ObjectValue(std::initializer_list<std::pair<const char*, std::string>> fields) {
  Value value;
  for (const auto& [key, text] : fields) {
    (*value.mutable_struct_value()->mutable_fields())[key] = StringValue(text);
  }
  return value;
}

Value ItemJson(const ItemCoverage& coverage) {
  Value value = ObjectValue({{"id", coverage.item.id}, {"description", coverage.item.description}});
  ListValue* served =
      (*value.mutable_struct_value()->mutable_fields())["servedBy"].mutable_list_value();
  for (const NodeRef& ref : coverage.served_by) {
    *served->add_values() = ObjectValue({{"topology", ref.topology}, {"node", ref.node}});
  }
  return value;
}

Value GroupJson(const CoverageGroup& group) {
  Value value = ObjectValue({{"name", group.name}});
  auto& fields = *value.mutable_struct_value()->mutable_fields();
  if (!group.items.empty()) {
    fields["level"] = StringValue(group.items.front().item.level);
    fields["direction"] = StringValue(group.items.front().item.direction);
  }
  fields["total"] = NumberValue(static_cast<double>(group.items.size()));
  fields["covered"] = NumberValue(group.covered());
  ListValue* items = fields["items"].mutable_list_value();
  for (const ItemCoverage& item : group.items) *items->add_values() = ItemJson(item);
  return value;
}

std::string ServedBy(const ItemCoverage& coverage) {
  std::vector<std::string> refs;
  for (const NodeRef& ref : coverage.served_by) refs.push_back(ref.ToString());
  return absl::StrJoin(refs, ", ");
}

}  // namespace

int CoverageGroup::covered() const {
  int n = 0;
  for (const ItemCoverage& item : items) n += item.served_by.empty() ? 0 : 1;
  return n;
}

int CoverageReport::total_items() const {
  int n = 0;
  for (const CoverageGroup& group : groups) n += static_cast<int>(group.items.size());
  return n;
}

CoverageReport ComputeCoverage(const StandardCatalogue& catalogue,
                               absl::Span<const v1::Topology> topologies) {
  absl::flat_hash_map<std::string, std::vector<NodeRef>> served;
  CoverageReport report;
  for (const v1::Topology& topology : topologies) {
    for (const v1::Node& node : topology.nodes()) {
      NodeRef ref{topology.name(), node.name()};
      for (const std::string& id : node.covers()) {
        if (catalogue.Find(id) == nullptr) {
          report.unknown.emplace_back(ref, id);
          continue;
        }
        std::vector<NodeRef>& refs = served[id];
        // A node that names an item twice (possible over gRPC only) counts once.
        if (refs.empty() || !(refs.back() == ref)) refs.push_back(ref);
      }
    }
  }
  for (const StandardItem& item : catalogue.items()) {
    if (report.groups.empty() || report.groups.back().name != item.Group()) {
      report.groups.push_back(CoverageGroup{item.Group(), {}});
    }
    auto it = served.find(item.id);
    std::vector<NodeRef> refs = it == served.end() ? std::vector<NodeRef>() : it->second;
    if (refs.empty()) report.uncovered.push_back(item);
    report.groups.back().items.push_back(ItemCoverage{item, std::move(refs)});
  }
  return report;
}

void PrintCoverage(const CoverageReport& report, std::ostream& out) {
  for (const CoverageGroup& group : report.groups) {
    out << group.name << ": " << group.covered() << " of " << group.items.size()
        << " items covered\n";
    Table table({"ITEM", "SERVED BY", "DESCRIPTION"});
    for (const ItemCoverage& item : group.items) {
      table.AddRow({item.item.id, ServedBy(item), item.item.description});
    }
    table.Print(out);
    out << "\n";
  }
  if (report.uncovered.empty()) {
    out << "uncovered: none, every one of the " << report.total_items() << " items is covered\n";
  } else {
    out << "uncovered: " << report.uncovered.size() << " of " << report.total_items() << " items\n";
    Table table({"ITEM", "DESCRIPTION"});
    for (const StandardItem& item : report.uncovered) table.AddRow({item.id, item.description});
    table.Print(out);
  }
  if (report.unknown.empty()) return;
  out << "\nunknown items (not in this labrackctl's catalogue):\n";
  for (const auto& [ref, id] : report.unknown) out << "  " << ref.ToString() << ": " << id << "\n";
}

Struct CoverageToJson(const CoverageReport& report) {
  Struct json;
  auto& fields = *json.mutable_fields();
  ListValue* groups = fields["groups"].mutable_list_value();
  for (const CoverageGroup& group : report.groups) *groups->add_values() = GroupJson(group);
  ListValue* uncovered = fields["uncovered"].mutable_list_value();
  for (const StandardItem& item : report.uncovered) {
    *uncovered->add_values() =
        ObjectValue({{"id", item.id}, {"group", item.Group()}, {"description", item.description}});
  }
  ListValue* unknown = fields["unknown"].mutable_list_value();
  for (const auto& [ref, id] : report.unknown) {
    *unknown->add_values() =
        ObjectValue({{"topology", ref.topology}, {"node", ref.node}, {"id", id}});
  }
  return json;
}

}  // namespace labrack::cli
