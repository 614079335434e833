// The sandboxes table and each sandbox's topology snapshot. Not thread-safe (see tables.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/store/blob_rows.h"
#include "controller/store/sqlite_handle.h"
#include "controller/store/tables.h"

namespace labrack::controller {
namespace {

// Parameters ?1..?13 in the order BindSandbox binds them.
constexpr char kInsertSandbox[] = R"sql(
INSERT INTO sandboxes (sandbox_id, request_id, host_id, phase, candidate, created_at_us,
                       reserved_vcpus, reserved_memory_mib, reserved_disk_mib, sandbox,
                       session_id, pool, assign_request_id)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
)sql";

constexpr char kUpdateSandbox[] = R"sql(
UPDATE sandboxes SET request_id = ?2, host_id = ?3, phase = ?4, candidate = ?5,
  created_at_us = ?6, reserved_vcpus = ?7, reserved_memory_mib = ?8, reserved_disk_mib = ?9,
  sandbox = ?10, session_id = ?11, pool = ?12, assign_request_id = ?13
WHERE sandbox_id = ?1
)sql";

// One static statement for every filter: ?1 is the phase asked for or -1, ?2 whether to
// include DESTROYED (?3) when no phase is asked for, ?4 the host, ?5 the candidate, ?6 the
// session and ?7 the pool ('' for any). Labels are matched on the parsed protos. Fine for the thousands of rows one
// controller holds; split by filter if it ever shows in a profile.
constexpr char kQuerySandboxes[] = R"sql(
SELECT sandbox FROM sandboxes
WHERE (?1 < 0 OR phase = ?1)
  AND (?1 >= 0 OR ?2 OR phase <> ?3)
  AND (?4 = '' OR host_id = ?4)
  AND (?5 = '' OR candidate = ?5)
  AND (?6 = '' OR session_id = ?6)
  AND (?7 = '' OR pool = ?7)
ORDER BY created_at_us, rowid
)sql";

void BindSandbox(Statement& statement, const v1::Sandbox& sandbox) {
  statement.BindText(1, sandbox.sandbox_id())
      .BindTextOrNull(2, sandbox.request_id())
      .BindText(3, sandbox.host_id())
      .BindInt(4, sandbox.phase())
      .BindText(5, sandbox.candidate())
      .BindInt(6, ToUnixMicros(sandbox.created_at()))
      .BindUint(7, sandbox.reserved().vcpus())
      .BindUint(8, sandbox.reserved().memory_mib())
      .BindUint(9, sandbox.reserved().disk_mib())
      .BindBlob(10, SerializeDeterministic(sandbox))
      .BindText(11, sandbox.session_id())
      .BindText(12, sandbox.pool())
      .BindTextOrNull(13, sandbox.assign_request_id());
}

bool HasLabels(const v1::Sandbox& sandbox, const std::map<std::string, std::string>& labels) {
  for (const auto& [key, value] : labels) {
    auto it = sandbox.labels().find(key);
    if (it == sandbox.labels().end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::optional<v1::Sandbox>> ReadSandbox(sqlite3* db, const std::string& sandbox_id) {
  return ReadOne<v1::Sandbox>(db, "SELECT sandbox FROM sandboxes WHERE sandbox_id = ?1", sandbox_id,
                              absl::StrCat("read sandbox ", sandbox_id));
}

absl::StatusOr<std::optional<v1::Sandbox>> ReadSandboxByRequestId(sqlite3* db,
                                                                  const std::string& request_id) {
  return ReadOne<v1::Sandbox>(db, "SELECT sandbox FROM sandboxes WHERE request_id = ?1", request_id,
                              absl::StrCat("read sandbox of request ", request_id));
}

absl::StatusOr<std::optional<v1::Topology>> ReadSandboxTopology(sqlite3* db,
                                                                const std::string& sandbox_id) {
  return ReadOne<v1::Topology>(db, "SELECT topology FROM sandbox_topologies WHERE sandbox_id = ?1",
                               sandbox_id, absl::StrCat("read topology of sandbox ", sandbox_id));
}

absl::Status InsertSandbox(sqlite3* db, const v1::Sandbox& sandbox, const v1::Topology& topology) {
  const std::string what = absl::StrCat("insert sandbox ", sandbox.sandbox_id());
  ASSIGN_OR_RETURN(Statement insert, Statement::Prepare(db, kInsertSandbox, what));
  BindSandbox(insert, sandbox);
  RETURN_IF_ERROR(insert.Run());
  ASSIGN_OR_RETURN(Statement snapshot,
                   Statement::Prepare(
                       db, "INSERT INTO sandbox_topologies (sandbox_id, topology) VALUES (?1, ?2)",
                       absl::StrCat(what, " topology")));
  snapshot.BindText(1, sandbox.sandbox_id()).BindBlob(2, SerializeDeterministic(topology));
  return snapshot.Run();
}

absl::Status UpdateSandboxRow(sqlite3* db, const v1::Sandbox& sandbox) {
  const std::string what = absl::StrCat("update sandbox ", sandbox.sandbox_id());
  ASSIGN_OR_RETURN(Statement update, Statement::Prepare(db, kUpdateSandbox, what));
  BindSandbox(update, sandbox);
  RETURN_IF_ERROR(update.Run());
  if (sqlite3_changes(db) != 1) return absl::InternalError(absl::StrCat(what, ": no such row"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Sandbox>> QuerySandboxes(sqlite3* db, const SandboxFilter& filter) {
  ASSIGN_OR_RETURN(Statement select, Statement::Prepare(db, kQuerySandboxes, "list sandboxes"));
  select.BindInt(1, filter.phase.has_value() ? static_cast<int64_t>(*filter.phase) : -1)
      .BindInt(2, filter.include_destroyed ? 1 : 0)
      .BindInt(3, v1::SANDBOX_PHASE_DESTROYED)
      .BindText(4, filter.host_id)
      .BindText(5, filter.candidate)
      .BindText(6, filter.session_id)
      .BindText(7, filter.pool);
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> sandboxes,
                   ReadBlobs<v1::Sandbox>(select, "list sandboxes"));
  if (filter.labels.empty()) return sandboxes;
  std::vector<v1::Sandbox> matching;
  for (v1::Sandbox& sandbox : sandboxes) {
    if (HasLabels(sandbox, filter.labels)) matching.push_back(std::move(sandbox));
  }
  return matching;
}

}  // namespace labrack::controller
