// The follow loop: show, judge, wait for a snapshot (or Ctrl-C, or the poll interval),
// GetSession when the stream was quiet. Snapshots and GetSession answers are alike: each
// is the whole session as the controller has it, so whichever came last decides.
#include "cli/session_watch.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "cli/exit_codes.h"
#include "cli/session_feed.h"
#include "cli/session_view.h"

namespace labrack::cli {
namespace {

// Failed candidates named on the progress line before "and N more".
constexpr size_t kNamedOnProgress = 3;
// How often options.stop is asked.
constexpr absl::Duration kStopCheck = absl::Milliseconds(200);

enum class Verdict { kWaiting, kDone, kFailed, kEndedEarly };

std::string Name(const v1::Session& s) { return s.name().empty() ? s.session_id() : s.name(); }

Verdict Judge(const v1::Session& s, SessionGoal goal) {
  if (goal == SessionGoal::kEnded) {
    return s.phase() == v1::SESSION_PHASE_ENDED ? Verdict::kDone : Verdict::kWaiting;
  }
  if (s.phase() == v1::SESSION_PHASE_READY) return Verdict::kDone;
  if (s.phase() == v1::SESSION_PHASE_ENDING || s.phase() == v1::SESSION_PHASE_ENDED) {
    return Verdict::kEndedEarly;
  }
  CandidateCounts c = CountCandidates(s);
  bool settled = c.total > 0 && c.ready + c.failed == c.total;
  return settled && c.failed > 0 ? Verdict::kFailed : Verdict::kWaiting;
}

absl::Status Failure(const v1::Session& s, Verdict verdict) {
  if (verdict == Verdict::kEndedEarly) {
    std::string what = absl::StrCat("session ", Name(s), " is ", SessionPhaseWord(s.phase()),
                                    " without having been READY");
    if (!s.message().empty()) absl::StrAppend(&what, ": ", s.message());
    return absl::FailedPreconditionError(what);
  }
  CandidateCounts c = CountCandidates(s);
  return WithExitCode(
      absl::FailedPreconditionError(
          absl::StrCat("session ", Name(s), ": the sandboxes of ", c.failed, " of ", c.total,
                       " candidates failed: ", NameFailures(s, std::numeric_limits<size_t>::max()),
                       " (the others are READY; see `labrackctl session get ", Name(s), "`)")),
      kExitSandboxFailed);
}

absl::Status Timeout(const v1::Session& s, const FollowOptions& options, const std::string& last) {
  return absl::DeadlineExceededError(absl::StrCat(
      "timed out after ", absl::FormatDuration(options.timeout), " waiting for session ", Name(s),
      " to become ", options.goal == SessionGoal::kReady ? "READY" : "ENDED", " (last seen: ", last,
      "); it goes on in the background, see `labrackctl session get ", Name(s), "`"));
}

absl::StatusOr<v1::Session> Get(ControllerClient& client, const std::string& id,
                                absl::Time deadline) {
  grpc::ClientContext ctx;
  client.SetDeadline(ctx);
  if (ctx.deadline() > absl::ToChronoTime(deadline)) ctx.set_deadline(absl::ToChronoTime(deadline));
  v1::GetSessionRequest req;
  req.set_session(id);
  v1::Session session;
  grpc::Status status = client.stub().GetSession(&ctx, req, &session);
  if (!status.ok()) return client.ToStatus(status);
  return session;
}

bool Retryable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

std::string SessionProgressText(const v1::Session& s) {
  std::string text = absl::StrCat("session ", Name(s), ": ", SessionPhaseWord(s.phase()));
  bool counting = s.phase() == v1::SESSION_PHASE_WAITING ||
                  s.phase() == v1::SESSION_PHASE_PROVISIONING ||
                  s.phase() == v1::SESSION_PHASE_READY;
  CandidateCounts c = CountCandidates(s);
  if (counting && c.total > 0) {
    absl::StrAppend(&text, " ", c.ready, "/", c.total, " ready");
    if (c.failed > 0) {
      absl::StrAppend(&text, ", ", c.failed, " failed (", NameFailures(s, kNamedOnProgress), ")");
    }
  } else if (!s.message().empty()) {
    // While counting, the controller's message only repeats the counts.
    absl::StrAppend(&text, " (", s.message(), ")");
  }
  return text;
}

absl::Status FollowSession(ControllerClient& client, const v1::Session& start,
                           const FollowOptions& options, ProgressLine& progress,
                           v1::Session* last) {
  const absl::Time deadline = absl::Now() + options.timeout;
  const std::string id = start.session_id().empty() ? start.name() : start.session_id();
  SessionFeed feed(client, id, deadline);
  *last = start;
  absl::Time next_poll = absl::Now() + options.poll_interval;
  for (;;) {
    std::string text = SessionProgressText(*last);
    progress.Show(text);
    Verdict verdict = Judge(*last, options.goal);
    if (verdict == Verdict::kDone) return absl::OkStatus();
    if (verdict != Verdict::kWaiting) return Failure(*last, verdict);
    if (options.stop && options.stop()) return absl::OkStatus();
    absl::Time now = absl::Now();
    if (now >= deadline) return Timeout(*last, options, text);
    absl::Duration slice = std::min(deadline, next_poll) - now;
    if (options.stop) slice = std::min(slice, kStopCheck);
    if (std::optional<v1::Session> snapshot = feed.Next(slice)) {
      *last = *std::move(snapshot);
      next_poll = absl::Now() + options.poll_interval;
      continue;
    }
    if (absl::Now() < next_poll) continue;
    absl::StatusOr<v1::Session> polled = Get(client, id, deadline);
    next_poll = absl::Now() + options.poll_interval;
    if (polled.ok()) {
      *last = *std::move(polled);
    } else if (!Retryable(polled.status())) {
      return polled.status();
    }
  }
}

}  // namespace labrack::cli
