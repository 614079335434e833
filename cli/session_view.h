// How exam sessions look in table output: one row each in `session list`, the detail view
// of `session get` with its candidates and, once ENDED, its report; and the counts and
// failure names that the progress line shares with them.
// Pure functions; thread-safe.
#ifndef LABRACK_CLI_SESSION_VIEW_H_
#define LABRACK_CLI_SESSION_VIEW_H_

#include <cstddef>
#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::cli {

// "PROVISIONING", "ENDED"; "-" for UNSPECIFIED.
std::string SessionPhaseWord(v1::SessionPhase phase);

// Candidates whose sandbox is READY, FAILED, and in all. Counted from the candidates when
// the session lists them; else from its ready and failed fields, with total 0 (ListSessions
// sends no candidates).
struct CandidateCounts {
  int ready = 0;
  int failed = 0;
  int total = 0;
};
CandidateCounts CountCandidates(const v1::Session& session);

// "c04: <message>, c07: <message> and 2 more": the first `max_named` candidates whose
// sandbox FAILED; empty when none did.
std::string NameFailures(const v1::Session& session, size_t max_named);

// NAME, ID (short), TOPOLOGY, PHASE, READY ("7/10", or "7" without a total), FAILED, START,
// END.
void PrintSessionTable(const v1::ListSessionsResponse& resp, absl::Time now, std::ostream& out);

// Fields (id, name, topology@version, phase, message, start, end, lead, evidence, reserved
// capacity, counts), a table of candidates and, when the session has one, its report.
void PrintSessionDetails(const v1::Session& session, absl::Time now, std::ostream& out);

// The "Report:" block alone: frozen, evidence collected, ended, evidence folder, whether
// anything was left (with the leftovers) and the resets. Nothing when the session has no
// report yet.
void PrintSessionReport(const v1::Session& session, absl::Time now, std::ostream& out);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_SESSION_VIEW_H_
