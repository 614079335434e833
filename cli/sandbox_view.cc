// Sandbox tables and the detail view.
#include "cli/sandbox_view.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/output.h"

namespace labrack::cli {
namespace {

std::string Labels(const v1::Sandbox& s) {
  std::map<std::string, std::string> sorted(s.labels().begin(), s.labels().end());
  return absl::StrJoin(sorted, ", ", absl::PairFormatter("="));
}

std::string Overrides(const v1::Sandbox& s) {
  std::map<std::string, std::string> sorted(s.image_overrides().begin(),
                                            s.image_overrides().end());
  return absl::StrJoin(sorted, ", ", absl::PairFormatter("="));
}

std::string Phase(const v1::Sandbox& s) {
  std::string phase = PhaseWord(s.phase());
  if (s.phase() == v1::SANDBOX_PHASE_LOST &&
      s.phase_before_lost() != v1::SANDBOX_PHASE_UNSPECIFIED) {
    absl::StrAppend(&phase, " (was ", PhaseWord(s.phase_before_lost()), ")");
  }
  return phase;
}

void PrintNodes(const v1::Sandbox& s, std::ostream& out) {
  Table nodes({"NODE", "PHASE", "ADDRESSES", "DOMAIN", "MESSAGE"});
  for (const v1::NodeStatus& n : s.nodes()) {
    nodes.AddRow({n.name(), NodePhaseWord(n.phase()), absl::StrJoin(n.addresses(), ", "),
                  n.domain(), n.message()});
  }
  nodes.Print(out);
}

}  // namespace

ReadyCount CountReady(const v1::Sandbox& sandbox) {
  ReadyCount count;
  count.total = sandbox.nodes_size();
  for (const v1::NodeStatus& n : sandbox.nodes()) {
    if (n.phase() == v1::NODE_PHASE_READY) ++count.ready;
  }
  return count;
}

void PrintSandboxTable(const v1::ListSandboxesResponse& resp, absl::Time now, std::ostream& out) {
  Table table({"ID", "PHASE", "TOPOLOGY", "CANDIDATE", "HOST", "GEN", "READY", "AGE"});
  for (const v1::Sandbox& s : resp.sandboxes()) {
    ReadyCount ready = CountReady(s);
    table.AddRow({s.sandbox_id(), Phase(s), s.topology(), s.candidate(), s.host_id(),
                  absl::StrCat(s.generation()), absl::StrCat(ready.ready, "/", ready.total),
                  FormatAge(s.created_at(), now)});
  }
  table.Print(out);
}

void PrintSandboxDetails(const v1::Sandbox& s, absl::Time now, std::ostream& out) {
  PrintField(out, "Sandbox:", s.sandbox_id());
  PrintField(out, "Phase:", Phase(s));
  if (!s.message().empty()) PrintField(out, "Message:", s.message());
  PrintField(out, "Topology:", absl::StrCat(s.topology(), " (version ", s.topology_version(), ")"));
  PrintField(out, "Candidate:", s.candidate());
  PrintField(out, "Labels:", Labels(s));
  PrintField(out, "Overrides:", Overrides(s));
  PrintField(out, "Host:", s.host_id());
  PrintField(out, "Generation:", absl::StrCat(s.generation()));
  PrintField(out, "Session:", s.session_id());
  if (!s.pool().empty()) PrintField(out, "Pool:", absl::StrCat(s.pool(), " (idle)"));
  if (!s.assigned_from_pool().empty()) {
    PrintField(out, "From pool:", absl::StrCat(s.assigned_from_pool(), ", assigned ",
                                               FormatTime(s.assigned_at(), now)));
  }
  if (!s.cloned_from().empty()) PrintField(out, "Cloned from:", s.cloned_from());
  PrintField(out, "Reserved:", FormatCapacity(s.reserved()));
  PrintField(out, "Request id:", s.request_id());
  PrintField(out, "Created:", FormatTime(s.created_at(), now));
  PrintField(out, "Updated:", FormatTime(s.updated_at(), now));
  if (s.has_expires_at()) PrintField(out, "Expires:", FormatTimeAround(s.expires_at(), now));
  if (s.nodes().empty()) return;
  out << "\n";
  PrintNodes(s, out);
  out << "\nConsoles (escape with Ctrl-]";
  if (!s.console_password().empty()) {
    out << "; images with a login: root, password " << s.console_password();
  }
  out << "):\n";
  for (const v1::NodeStatus& n : s.nodes()) {
    out << "  labrackctl sandbox console " << s.sandbox_id() << " --node " << n.name() << "\n";
  }
}

}  // namespace labrack::cli
