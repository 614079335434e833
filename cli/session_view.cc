// Session tables, the detail view and the report block.
#include "cli/session_view.h"

#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "cli/output.h"

namespace labrack::cli {
namespace {

bool IsSet(const google::protobuf::Timestamp& ts) { return ts.seconds() != 0 || ts.nanos() != 0; }

std::string ShortTime(const google::protobuf::Timestamp& ts) {
  if (!IsSet(ts)) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::FromUnixSeconds(ts.seconds()),
                          absl::UTCTimeZone());
}

std::string Overrides(const v1::Session& s) {
  std::map<std::string, std::string> sorted(s.image_overrides().begin(), s.image_overrides().end());
  return absl::StrJoin(sorted, ", ", absl::PairFormatter("="));
}

std::string Lead(const v1::Session& s) {
  std::string lead = absl::FormatDuration(absl::Seconds(s.lead_seconds()));
  if (!IsSet(s.start_time())) return lead;
  google::protobuf::Timestamp from = s.start_time();
  from.set_seconds(from.seconds() - s.lead_seconds());
  return absl::StrCat(lead, " (provisioning from ", ShortTime(from), ")");
}

std::string Counts(const v1::Session& s) {
  CandidateCounts c = CountCandidates(s);
  std::string text = c.total > 0 ? absl::StrCat(c.total, ": ") : "";
  absl::StrAppend(&text, c.ready, " ready, ", c.failed, " failed");
  return text;
}

// "13 files"; "3 files (the sandbox was FAILED ...)" when only the controller's records
// could be kept; "none: <why>" when nothing could.
std::string Evidence(const v1::SessionCandidate& c) {
  if (c.evidence_dir().empty()) {
    return c.evidence_error().empty() ? "" : absl::StrCat("none: ", c.evidence_error());
  }
  std::string text = absl::StrCat(c.evidence_files(), " files");
  if (!c.evidence_error().empty()) absl::StrAppend(&text, " (", c.evidence_error(), ")");
  return text;
}

// The sandbox's message, after how often the candidate's sandbox failed and was replaced.
std::string CandidateMessage(const v1::SessionCandidate& c) {
  if (c.replacements() == 0) return c.message();
  return absl::StrCat("replaced after ", c.replacements(),
                      c.replacements() == 1 ? " failure" : " failures",
                      c.message().empty() ? "" : "; ", c.message());
}

void PrintCandidates(const v1::Session& s, std::ostream& out) {
  bool evidence = false;
  for (const v1::SessionCandidate& c : s.candidates()) evidence |= !Evidence(c).empty();
  std::vector<std::string> headers = {"CANDIDATE", "SANDBOX", "PHASE",
                                      "NODES",     "RESETS",  "MESSAGE"};
  if (evidence) headers.insert(headers.end() - 1, "EVIDENCE");
  Table table(headers);
  for (const v1::SessionCandidate& c : s.candidates()) {
    std::vector<std::string> row = {c.candidate(),
                                    ShortId(c.sandbox_id()),
                                    PhaseWord(c.phase()),
                                    absl::StrCat(c.nodes_ready(), "/", c.nodes_total()),
                                    absl::StrCat(c.resets_size()),
                                    CandidateMessage(c)};
    if (evidence) row.insert(row.end() - 1, Evidence(c));
    table.AddRow(std::move(row));
  }
  table.Print(out);
}

}  // namespace

std::string SessionPhaseWord(v1::SessionPhase phase) {
  std::string name = v1::SessionPhase_Name(phase);
  if (name.empty() || absl::EndsWith(name, "_UNSPECIFIED")) return "-";
  absl::string_view word = name;
  absl::ConsumePrefix(&word, "SESSION_PHASE_");
  return std::string(word);
}

CandidateCounts CountCandidates(const v1::Session& session) {
  if (session.candidates().empty()) {
    return CandidateCounts{static_cast<int>(session.ready()), static_cast<int>(session.failed()),
                           static_cast<int>(session.candidate_count())};
  }
  CandidateCounts count;
  count.total = session.candidates_size();
  for (const v1::SessionCandidate& c : session.candidates()) {
    if (c.phase() == v1::SANDBOX_PHASE_READY) ++count.ready;
    if (c.phase() == v1::SANDBOX_PHASE_FAILED) ++count.failed;
  }
  return count;
}

std::string NameFailures(const v1::Session& session, size_t max_named) {
  std::vector<std::string> named;
  size_t failed = 0;
  for (const v1::SessionCandidate& c : session.candidates()) {
    if (c.phase() != v1::SANDBOX_PHASE_FAILED) continue;
    if (++failed > max_named) continue;
    named.push_back(c.message().empty() ? c.candidate()
                                        : absl::StrCat(c.candidate(), ": ", c.message()));
  }
  std::string text = absl::StrJoin(named, ", ");
  if (failed > named.size()) absl::StrAppend(&text, " and ", failed - named.size(), " more");
  return text;
}

void PrintSessionTable(const v1::ListSessionsResponse& resp, absl::Time now, std::ostream& out) {
  Table table({"NAME", "ID", "TOPOLOGY", "PHASE", "READY", "FAILED", "START", "END"});
  for (const v1::Session& s : resp.sessions()) {
    CandidateCounts c = CountCandidates(s);
    table.AddRow({s.name(), ShortId(s.session_id()),
                  absl::StrCat(s.topology(), "@", s.topology_version()),
                  SessionPhaseWord(s.phase()),
                  c.total > 0 ? absl::StrCat(c.ready, "/", c.total) : absl::StrCat(c.ready),
                  absl::StrCat(c.failed), ShortTime(s.start_time()), ShortTime(s.end_time())});
  }
  table.Print(out);
}

void PrintSessionDetails(const v1::Session& s, absl::Time now, std::ostream& out) {
  PrintField(out, "Session:", s.name());
  PrintField(out, "Id:", s.session_id());
  PrintField(out, "Phase:", SessionPhaseWord(s.phase()));
  if (!s.message().empty()) PrintField(out, "Message:", s.message());
  PrintField(out, "Topology:", absl::StrCat(s.topology(), "@", s.topology_version()));
  if (!s.image_overrides().empty()) PrintField(out, "Overrides:", Overrides(s));
  if (!s.pool().empty()) PrintField(out, "Pool:", s.pool());
  PrintField(out, "Start:", FormatTimeAround(s.start_time(), now));
  PrintField(out, "End:", FormatTimeAround(s.end_time(), now));
  PrintField(out, "Lead:", Lead(s));
  PrintField(out, "Evidence:", s.collect_evidence() ? "on" : "off");
  PrintField(out, "Reserved:", FormatCapacity(s.reserved()));
  PrintField(out, "Candidates:", Counts(s));
  PrintField(out, "Request id:", s.request_id());
  PrintField(out, "Created:", FormatTime(s.created_at(), now));
  if (!s.candidates().empty()) {
    out << "\n";
    PrintCandidates(s, out);
  }
  if (s.has_report()) out << "\n";
  PrintSessionReport(s, now, out);
}

void PrintSessionReport(const v1::Session& s, absl::Time now, std::ostream& out) {
  if (!s.has_report()) return;
  const v1::SessionReport& r = s.report();
  constexpr size_t kWidth = 21;
  out << "Report:\n";
  PrintField(out, "Frozen at:", FormatTime(r.frozen_at(), now), kWidth, "  ");
  PrintField(out, "Evidence collected:", FormatTime(r.evidence_collected_at(), now), kWidth, "  ");
  PrintField(out, "Ended at:", FormatTime(r.ended_at(), now), kWidth, "  ");
  PrintField(out, "Evidence folder:", r.evidence_dir(), kWidth, "  ");
  PrintField(out, "Nothing left:", r.nothing_left() ? "yes" : "no", kWidth, "  ");
  if (!r.leftovers().empty()) {
    out << "  Leftovers:\n";
    for (const std::string& line : r.leftovers()) out << "    " << line << "\n";
  }
  PrintField(out, "Resets:", absl::StrCat(r.resets()), kWidth, "  ");
}

}  // namespace labrack::cli
