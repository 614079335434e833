// Which of the standard's work items (the built-in catalogue) a set of topologies serves,
// node by node: the computation behind `labrackctl topology coverage`, and its table and
// JSON forms. Pure functions; thread-safe.
#ifndef LABRACK_CLI_TOPOLOGY_COVERAGE_H_
#define LABRACK_CLI_TOPOLOGY_COVERAGE_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "common/topology/standard_items.h"
#include "google/protobuf/struct.pb.h"
#include "labrack/v1/types.pb.h"

namespace labrack::cli {

// A node of a topology, "junior-ops/storage" when printed.
struct NodeRef {
  std::string topology;
  std::string node;
  std::string ToString() const { return topology + "/" + node; }
  bool operator==(const NodeRef& other) const {
    return topology == other.topology && node == other.node;
  }
};

struct ItemCoverage {
  StandardItem item;
  std::vector<NodeRef> served_by;  // in topology order, then node order
};

// The items of one level (and direction), in catalogue order.
struct CoverageGroup {
  std::string name;  // "junior ops", "senior"
  std::vector<ItemCoverage> items;
  int covered() const;
};

struct CoverageReport {
  std::vector<CoverageGroup> groups;    // in catalogue order
  std::vector<StandardItem> uncovered;  // items no node serves, in catalogue order
  // `covers` ids the catalogue does not know (a topology stored by an older controller).
  std::vector<std::pair<NodeRef, std::string>> unknown;
  int total_items() const;
};

// Every catalogue item with the nodes of `topologies` whose `covers` name it.
CoverageReport ComputeCoverage(const StandardCatalogue& catalogue,
                               absl::Span<const v1::Topology> topologies);

// Per group a heading and a table ITEM / SERVED BY / DESCRIPTION, then the uncovered items
// (or "every item is covered"), then any unknown ids.
void PrintCoverage(const CoverageReport& report, std::ostream& out);

// The same content for -o json: {"groups": [{"name", "level", "direction", "total",
// "covered", "items": [{"id", "description", "servedBy": [{"topology", "node"}]}]}],
// "uncovered": [{"id", "group", "description"}], "unknown": [{"topology", "node", "id"}]}.
google::protobuf::Struct CoverageToJson(const CoverageReport& report);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_TOPOLOGY_COVERAGE_H_
