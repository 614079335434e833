// The events table: an append-only log ordered by seq. Not thread-safe (see tables.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/store/sqlite_handle.h"
#include "controller/store/tables.h"

namespace labrack::controller {
namespace {

// Two statements rather than one with an optional sandbox, so that each uses its index.
constexpr char kSelectAll[] = "SELECT seq, event FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2";
constexpr char kSelectOfSandbox[] =
    "SELECT seq, event FROM events WHERE sandbox_id = ?3 AND seq > ?1 ORDER BY seq LIMIT ?2";

}  // namespace

absl::StatusOr<uint64_t> InsertEvent(sqlite3* db, v1::Event event, absl::Time now) {
  // The seq lives in its column only: the stored proto never disagrees with it.
  event.clear_seq();
  *event.mutable_time() = ToTimestamp(now);
  ASSIGN_OR_RETURN(Statement insert,
                   Statement::Prepare(db, "INSERT INTO events (sandbox_id, event) VALUES (?1, ?2)",
                                      "append event"));
  insert.BindTextOrNull(1, event.sandbox_id()).BindBlob(2, SerializeDeterministic(event));
  RETURN_IF_ERROR(insert.Run());
  return static_cast<uint64_t>(sqlite3_last_insert_rowid(db));
}

absl::StatusOr<std::vector<v1::Event>> ReadEvents(sqlite3* db, uint64_t after_seq,
                                                  const std::string& sandbox_id, size_t limit) {
  ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db, sandbox_id.empty() ? kSelectAll : kSelectOfSandbox, "list events"));
  // LIMIT -1 is SQLite's "no limit".
  select.BindUint(1, after_seq);
  if (limit == 0) {
    select.BindInt(2, -1);
  } else {
    select.BindUint(2, limit);
  }
  if (!sandbox_id.empty()) select.BindText(3, sandbox_id);
  std::vector<v1::Event> events;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return events;
    v1::Event& event = events.emplace_back();
    RETURN_IF_ERROR(
        ParseBlob(select.ColumnBlob(1), event, absl::StrCat("event ", select.ColumnInt(0))));
    event.set_seq(static_cast<uint64_t>(select.ColumnInt(0)));
  }
}

absl::StatusOr<uint64_t> LastEventSeq(sqlite3* db) {
  ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db, "SELECT COALESCE(MAX(seq), 0) FROM events", "read last event seq"));
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::InternalError("read last event seq: no row");
  return static_cast<uint64_t>(select.ColumnInt(0));
}

v1::Event PhaseEvent(const v1::Sandbox& sandbox) {
  v1::Event event;
  event.set_kind(v1::EVENT_KIND_SANDBOX_PHASE);
  event.set_sandbox_id(sandbox.sandbox_id());
  event.set_host_id(sandbox.host_id());
  event.set_phase(sandbox.phase());
  event.set_generation(sandbox.generation());
  event.set_message(sandbox.message());
  // The node phases of a sandbox whose guests are gone (or going) are history: none is ready.
  const bool gone = sandbox.phase() == v1::SANDBOX_PHASE_FAILED ||
                    sandbox.phase() == v1::SANDBOX_PHASE_DESTROYING ||
                    sandbox.phase() == v1::SANDBOX_PHASE_DESTROYED;
  uint32_t ready = 0;
  for (const v1::NodeStatus& n : sandbox.nodes()) ready += n.phase() == v1::NODE_PHASE_READY;
  event.set_nodes_ready(gone ? 0 : ready);
  event.set_nodes_total(sandbox.nodes_size());
  if (sandbox.phase() == v1::SANDBOX_PHASE_RESETTING) *event.mutable_reset_nodes() = sandbox.reset_nodes();
  return event;
}

}  // namespace labrack::controller
