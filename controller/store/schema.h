// Versioned schema of the controller's SQLite database: an ordered list of migration steps,
// the number applied kept in PRAGMA user_version. Not thread-safe: call it with the
// connection owned by the calling thread, before anything else uses it.
#ifndef LABRACK_CONTROLLER_STORE_SCHEMA_H_
#define LABRACK_CONTROLLER_STORE_SCHEMA_H_

#include <sqlite3.h>

#include "absl/status/status.h"

namespace labrack::controller {

// The schema version this code writes: the number of migration steps it knows.
int KnownSchemaVersion();

// Applies every step the database lacks, in order, each in its own write transaction
// together with its new user_version, so a crash leaves the database at a step boundary and
// another process migrating at the same time finds the work done. FailedPrecondition when
// the database is newer than this code (it must not guess at columns it does not know);
// Unavailable or Internal for SQLite errors.
absl::Status MigrateSchema(sqlite3* db);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_STORE_SCHEMA_H_
