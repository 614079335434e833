// How warm pools look in table output: one row each in `pool list`, and the detail view
// that `pool get`, `pool create` and `pool delete` print.
// Pure functions; thread-safe.
#ifndef LABRACK_CLI_POOL_VIEW_H_
#define LABRACK_CLI_POOL_VIEW_H_

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::cli {

// One word for what the pool is doing: DELETING; FULL when `size` sandboxes are READY;
// WAITING when the refill waits for something (the pool's message says what); else
// FILLING (sandboxes are being built or replaced).
std::string PoolState(const v1::Pool& pool);

// The first 12 characters of a pool's spec digest, enough to tell specs apart.
std::string ShortSpec(absl::string_view spec);

// NAME, TOPOLOGY (name@version), SIZE, READY, BUILDING, REPLACING, ASSIGNED, STATE.
void PrintPoolTable(const v1::ListPoolsResponse& resp, std::ostream& out);

// Fields: name, state, message, topology@version, overrides, size, the idle sandboxes
// (ready, building, replacing), assigned, spec (short), request id, created, updated.
void PrintPoolDetails(const v1::Pool& pool, absl::Time now, std::ostream& out);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_POOL_VIEW_H_
