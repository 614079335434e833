// The hosts table, and host records with reservations summed from live sandboxes. Not
// thread-safe (see tables.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/store/sqlite_handle.h"
#include "controller/store/tables.h"

namespace labrack::controller {
namespace {

constexpr char kUpsertHost[] = R"sql(
INSERT INTO hosts (host_id, address, last_heartbeat_us, inventory) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (host_id) DO UPDATE SET
  address = excluded.address,
  last_heartbeat_us = excluded.last_heartbeat_us,
  inventory = excluded.inventory
)sql";

// Live sandboxes are those in any phase but ?2 (DESTROYED) and ?3 (FAILED). ?1 = '' selects
// every host.
constexpr char kSelectHosts[] = R"sql(
SELECT h.host_id, h.address, h.drained, h.last_heartbeat_us, h.inventory,
       COUNT(s.sandbox_id), COALESCE(SUM(s.reserved_vcpus), 0),
       COALESCE(SUM(s.reserved_memory_mib), 0), COALESCE(SUM(s.reserved_disk_mib), 0)
FROM hosts h
LEFT JOIN sandboxes s ON s.host_id = h.host_id AND s.phase NOT IN (?2, ?3)
WHERE ?1 = '' OR h.host_id = ?1
GROUP BY h.host_id
ORDER BY h.host_id
)sql";

// "name@<sha256 of its disk>", so that two builds of an image under one name differ.
std::string ImageLabel(const v1::ImageManifest& image) {
  for (const v1::ImageArtifact& artifact : image.artifacts()) {
    if (artifact.kind() == v1::ARTIFACT_KIND_DISK) {
      return absl::StrCat(image.name(), "@", artifact.sha256());
    }
  }
  return image.name();  // a manifest without a disk is invalid; show what we know
}

// Columns as in kSelectHosts.
HostRecord ToHostRecord(const Statement& row, v1::Inventory inventory) {
  HostRecord record;
  v1::Host& host = record.host;
  host.set_host_id(row.ColumnText(0));
  host.set_address(row.ColumnText(1));
  host.set_drained(row.ColumnInt(2) != 0);
  *host.mutable_last_heartbeat() = ToTimestamp(absl::FromUnixMicros(row.ColumnInt(3)));
  *host.mutable_total() = inventory.total();
  host.set_sandboxes(static_cast<uint32_t>(row.ColumnInt(5)));
  host.mutable_reserved()->set_vcpus(static_cast<uint32_t>(row.ColumnInt(6)));
  host.mutable_reserved()->set_memory_mib(static_cast<uint64_t>(row.ColumnInt(7)));
  host.mutable_reserved()->set_disk_mib(static_cast<uint64_t>(row.ColumnInt(8)));
  for (const v1::ImageManifest& image : inventory.images()) {
    host.add_images(ImageLabel(image));
  }
  host.set_domain_type(inventory.domain_type());
  host.set_domain_type_reason(inventory.domain_type_reason());
  *host.mutable_capabilities() = inventory.capabilities();
  host.set_reported_sandboxes(static_cast<uint32_t>(inventory.sandboxes_size()));
  record.inventory = std::move(inventory);
  return record;
}

}  // namespace

absl::Status UpsertHostRow(sqlite3* db, const std::string& host_id, const std::string& address,
                           const v1::Inventory& inventory, absl::Time now) {
  ASSIGN_OR_RETURN(Statement upsert, Statement::Prepare(db, kUpsertHost, "upsert host"));
  upsert.BindText(1, host_id)
      .BindText(2, address)
      .BindInt(3, absl::ToUnixMicros(now))
      .BindBlob(4, SerializeDeterministic(inventory));
  return upsert.Run();
}

absl::StatusOr<bool> UpdateHostHeartbeat(sqlite3* db, const std::string& host_id,
                                         const v1::Inventory& inventory, absl::Time now) {
  ASSIGN_OR_RETURN(Statement update,
                   Statement::Prepare(db,
                                      "UPDATE hosts SET inventory = ?2, last_heartbeat_us = ?3 "
                                      "WHERE host_id = ?1",
                                      "record heartbeat"));
  update.BindText(1, host_id)
      .BindBlob(2, SerializeDeterministic(inventory))
      .BindInt(3, absl::ToUnixMicros(now));
  RETURN_IF_ERROR(update.Run());
  return sqlite3_changes(db) > 0;
}

absl::StatusOr<bool> UpdateHostDrained(sqlite3* db, const std::string& host_id, bool drained) {
  ASSIGN_OR_RETURN(
      Statement update,
      Statement::Prepare(db, "UPDATE hosts SET drained = ?2 WHERE host_id = ?1", "drain host"));
  update.BindText(1, host_id).BindInt(2, drained ? 1 : 0);
  RETURN_IF_ERROR(update.Run());
  return sqlite3_changes(db) > 0;
}

absl::StatusOr<std::vector<HostRecord>> ReadHosts(sqlite3* db, const std::string& host_id) {
  ASSIGN_OR_RETURN(Statement select, Statement::Prepare(db, kSelectHosts, "read hosts"));
  select.BindText(1, host_id)
      .BindInt(2, v1::SANDBOX_PHASE_DESTROYED)
      .BindInt(3, v1::SANDBOX_PHASE_FAILED);
  std::vector<HostRecord> hosts;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return hosts;
    v1::Inventory inventory;
    RETURN_IF_ERROR(ParseBlob(select.ColumnBlob(4), inventory,
                              absl::StrCat("inventory of host ", select.ColumnText(0))));
    hosts.push_back(ToHostRecord(select, std::move(inventory)));
  }
}

}  // namespace labrack::controller
