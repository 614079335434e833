// Reading rows whose first column is a serialized proto, for the table files. Not
// thread-safe (see tables.h).
#ifndef LABRACK_CONTROLLER_STORE_BLOB_ROWS_H_
#define LABRACK_CONTROLLER_STORE_BLOB_ROWS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "controller/store/sqlite_handle.h"
#include "controller/store/tables.h"

namespace labrack::controller {

// Every row's first column parsed as a T.
template <typename T>
absl::StatusOr<std::vector<T>> ReadBlobs(Statement& select, absl::string_view what) {
  std::vector<T> messages;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return messages;
    RETURN_IF_ERROR(ParseBlob(select.ColumnBlob(0), messages.emplace_back(), what));
  }
}

// The message in the first column of the only row `sql` selects for `key`, or nullopt.
template <typename T>
absl::StatusOr<std::optional<T>> ReadOne(sqlite3* db, const char* sql, const std::string& key,
                                         absl::string_view what) {
  ASSIGN_OR_RETURN(Statement select, Statement::Prepare(db, sql, what));
  select.BindText(1, key);
  ASSIGN_OR_RETURN(std::vector<T> found, ReadBlobs<T>(select, what));
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_STORE_BLOB_ROWS_H_
