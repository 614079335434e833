// Pool tables and the detail view.
#include "cli/pool_view.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/output.h"

namespace labrack::cli {
namespace {

constexpr size_t kSpecChars = 12;

std::string Topology(const v1::Pool& p) {
  return absl::StrCat(p.topology(), "@", p.topology_version());
}

std::string Overrides(const v1::Pool& p) {
  std::map<std::string, std::string> sorted(p.image_overrides().begin(), p.image_overrides().end());
  return absl::StrJoin(sorted, ", ", absl::PairFormatter("="));
}

}  // namespace

std::string PoolState(const v1::Pool& pool) {
  if (pool.deleting()) return "DELETING";
  if (pool.ready() >= pool.size()) return "FULL";
  if (!pool.message().empty()) return "WAITING";
  return "FILLING";
}

std::string ShortSpec(absl::string_view spec) { return std::string(spec.substr(0, kSpecChars)); }

void PrintPoolTable(const v1::ListPoolsResponse& resp, std::ostream& out) {
  Table table({"NAME", "TOPOLOGY", "SIZE", "READY", "BUILDING", "REPLACING", "ASSIGNED", "STATE"});
  for (const v1::Pool& p : resp.pools()) {
    table.AddRow({p.name(), Topology(p), absl::StrCat(p.size()), absl::StrCat(p.ready()),
                  absl::StrCat(p.building()), absl::StrCat(p.replacing()),
                  absl::StrCat(p.assigned()), PoolState(p)});
  }
  table.Print(out);
}

void PrintPoolDetails(const v1::Pool& p, absl::Time now, std::ostream& out) {
  PrintField(out, "Pool:", p.name());
  PrintField(out, "State:", PoolState(p));
  if (!p.message().empty()) PrintField(out, "Message:", p.message());
  PrintField(out, "Topology:", Topology(p));
  if (!p.image_overrides().empty()) PrintField(out, "Overrides:", Overrides(p));
  PrintField(out, "Size:", absl::StrCat(p.size()));
  PrintField(out, "Idle:",
             absl::StrCat(p.ready(), " ready, ", p.building(), " building, ", p.replacing(),
                          " replacing"));
  PrintField(out, "Assigned:", absl::StrCat(p.assigned()));
  PrintField(out, "Spec:", ShortSpec(p.spec()));
  PrintField(out, "Request id:", p.request_id());
  PrintField(out, "Created:", FormatTime(p.created_at(), now));
  PrintField(out, "Updated:", FormatTime(p.updated_at(), now));
}

}  // namespace labrack::cli
