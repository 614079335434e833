// The topologies table: every version of every topology, keyed by (name, version). Not
// thread-safe (see tables.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "controller/store/sqlite_handle.h"
#include "controller/store/tables.h"

namespace labrack::controller {
namespace {

constexpr char kColumns[] = "name, version, sha256, applied_at_us, topology";

// Columns as in kColumns.
absl::StatusOr<v1::TopologyRecord> ToRecord(const Statement& row) {
  v1::TopologyRecord record;
  RETURN_IF_ERROR(
      ParseBlob(row.ColumnBlob(4), *record.mutable_topology(),
                absl::StrCat("topology ", row.ColumnText(0), " version ", row.ColumnInt(1))));
  record.set_version(static_cast<uint64_t>(row.ColumnInt(1)));
  record.set_sha256(row.ColumnText(2));
  *record.mutable_applied_at() = ToTimestamp(absl::FromUnixMicros(row.ColumnInt(3)));
  return record;
}

absl::StatusOr<std::vector<v1::TopologyRecord>> ReadAll(Statement& select) {
  std::vector<v1::TopologyRecord> records;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return records;
    ASSIGN_OR_RETURN(v1::TopologyRecord record, ToRecord(select));
    records.push_back(std::move(record));
  }
}

}  // namespace

std::string TopologySha256(const v1::Topology& topology) {
  Sha256 hash;
  hash.Update(SerializeDeterministic(topology));
  return hash.HexDigest();
}

absl::StatusOr<std::optional<v1::TopologyRecord>> ReadTopology(sqlite3* db, const std::string& name,
                                                               uint64_t version) {
  // ?2 = 0 asks for the latest: the highest version comes first.
  std::string sql = absl::StrCat("SELECT ", kColumns,
                                 " FROM topologies WHERE name = ?1 AND (?2 = 0 OR version = ?2)"
                                 " ORDER BY version DESC LIMIT 1");
  ASSIGN_OR_RETURN(Statement select, Statement::Prepare(db, sql, "read topology"));
  select.BindText(1, name).BindUint(2, version);
  ASSIGN_OR_RETURN(std::vector<v1::TopologyRecord> records, ReadAll(select));
  if (records.empty()) return std::nullopt;
  return std::move(records.front());
}

absl::Status InsertTopology(sqlite3* db, const v1::TopologyRecord& record) {
  std::string sql =
      absl::StrCat("INSERT INTO topologies (", kColumns, ") VALUES (?1, ?2, ?3, ?4, ?5)");
  ASSIGN_OR_RETURN(Statement insert, Statement::Prepare(db, sql, "insert topology"));
  insert.BindText(1, record.topology().name())
      .BindUint(2, record.version())
      .BindText(3, record.sha256())
      .BindInt(4, ToUnixMicros(record.applied_at()))
      .BindBlob(5, SerializeDeterministic(record.topology()));
  return insert.Run();
}

absl::StatusOr<std::vector<v1::TopologyRecord>> ReadLatestTopologies(sqlite3* db) {
  std::string sql =
      absl::StrCat("SELECT ", kColumns,
                   " FROM topologies t WHERE version = "
                   "(SELECT MAX(version) FROM topologies WHERE name = t.name) ORDER BY name");
  ASSIGN_OR_RETURN(Statement select, Statement::Prepare(db, sql, "list topologies"));
  return ReadAll(select);
}

}  // namespace labrack::controller
