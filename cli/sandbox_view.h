// How sandboxes look in table output: one row each in `sandbox list`, and the detail view
// of `sandbox get` with nodes and the commands that reach their consoles.
// Pure functions; thread-safe.
#ifndef LABRACK_CLI_SANDBOX_VIEW_H_
#define LABRACK_CLI_SANDBOX_VIEW_H_

#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::cli {

// Nodes READY and nodes in all.
struct ReadyCount {
  int ready = 0;
  int total = 0;
};
ReadyCount CountReady(const v1::Sandbox& sandbox);

// ID, PHASE, TOPOLOGY, CANDIDATE, HOST, GEN, READY (n/m), AGE.
void PrintSandboxTable(const v1::ListSandboxesResponse& resp, absl::Time now, std::ostream& out);

// Fields, a table of nodes (phase, addresses, domain, message), the console password when
// the controller sent it, and one "labrackctl sandbox console ID --node N" line per node.
void PrintSandboxDetails(const v1::Sandbox& sandbox, absl::Time now, std::ostream& out);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_SANDBOX_VIEW_H_
