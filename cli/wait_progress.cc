// The wait loop: show, judge, sleep until an event or the poll interval, GetSandbox again.
// Events only wake the loop and supply node counts before the sandbox lists its nodes;
// the phase that ends the wait always comes from GetSandbox, so that an old event (the
// stream starts at sequence 0) never ends a wait early.
#include "cli/wait_progress.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cli/event_feed.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/sandbox_view.h"

namespace labrack::cli {
namespace {

enum class Verdict { kWaiting, kDone, kFailed };

Verdict Judge(const v1::Sandbox& s, const WaitOptions& options) {
  bool for_ready = options.goal == WaitGoal::kReady;
  switch (s.phase()) {
    case v1::SANDBOX_PHASE_FAILED:
    case v1::SANDBOX_PHASE_LOST:
      return Verdict::kFailed;
    case v1::SANDBOX_PHASE_DESTROYED:
      return for_ready ? Verdict::kFailed : Verdict::kDone;
    case v1::SANDBOX_PHASE_DESTROYING:
      return for_ready ? Verdict::kFailed : Verdict::kWaiting;
    case v1::SANDBOX_PHASE_READY:
      return for_ready && s.generation() >= options.min_generation ? Verdict::kDone
                                                                   : Verdict::kWaiting;
    default:
      return Verdict::kWaiting;
  }
}

absl::Status Failure(const v1::Sandbox& s) {
  std::string what;
  if (s.phase() == v1::SANDBOX_PHASE_FAILED) {
    what = absl::StrCat("sandbox ", s.sandbox_id(), " failed");
  } else if (s.phase() == v1::SANDBOX_PHASE_LOST) {
    what = absl::StrCat("sandbox ", s.sandbox_id(), " is LOST: its host ", s.host_id(),
                        " stopped reporting");
  } else {
    what = absl::StrCat("sandbox ", s.sandbox_id(), " is ", PhaseWord(s.phase()),
                        " while waiting for it to become READY");
  }
  if (!s.message().empty()) absl::StrAppend(&what, ": ", s.message());
  return WithExitCode(absl::FailedPreconditionError(what), kExitSandboxFailed);
}

absl::Status Timeout(const v1::Sandbox& s, const WaitOptions& options, const std::string& last) {
  return absl::DeadlineExceededError(absl::StrCat(
      "timed out after ", absl::FormatDuration(options.timeout), " waiting for sandbox ",
      s.sandbox_id(), " to become ", options.goal == WaitGoal::kReady ? "READY" : "DESTROYED",
      " (last seen: ", last, "); it goes on in the background, see `labrackctl sandbox get ",
      s.sandbox_id(), "`"));
}

absl::StatusOr<v1::Sandbox> Get(ControllerClient& client, const std::string& id,
                                absl::Time deadline) {
  grpc::ClientContext ctx;
  client.SetDeadline(ctx);
  if (ctx.deadline() > absl::ToChronoTime(deadline)) ctx.set_deadline(absl::ToChronoTime(deadline));
  v1::GetSandboxRequest req;
  req.set_sandbox_id(id);
  v1::Sandbox sandbox;
  grpc::Status status = client.stub().GetSandbox(&ctx, req, &sandbox);
  if (!status.ok()) return client.ToStatus(status);
  return sandbox;
}

bool Retryable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

std::string ProgressText(const v1::Sandbox& sandbox, int ready, int total) {
  ReadyCount count = CountReady(sandbox);
  if (count.total == 0) count = ReadyCount{ready, total};
  std::string text =
      absl::StrCat("sandbox ", ShortId(sandbox.sandbox_id()), ": ", PhaseWord(sandbox.phase()));
  bool counting = sandbox.phase() != v1::SANDBOX_PHASE_DESTROYING &&
                  sandbox.phase() != v1::SANDBOX_PHASE_DESTROYED;
  if (counting && count.total > 0) {
    absl::StrAppend(&text, " ", count.ready, "/", count.total, " nodes ready");
  }
  if (!sandbox.message().empty()) absl::StrAppend(&text, " (", sandbox.message(), ")");
  return text;
}

absl::StatusOr<v1::Sandbox> WaitForSandbox(ControllerClient& client, const v1::Sandbox& start,
                                           const WaitOptions& options, ProgressLine& progress) {
  const absl::Time deadline = absl::Now() + options.timeout;
  EventFeed feed(client, start.sandbox_id(), deadline);
  v1::Sandbox current = start;
  ReadyCount from_events;
  for (;;) {
    std::string text = ProgressText(current, from_events.ready, from_events.total);
    progress.Show(text);
    Verdict verdict = Judge(current, options);
    if (verdict == Verdict::kDone) return current;
    if (verdict == Verdict::kFailed) return Failure(current);
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return Timeout(current, options, text);
    for (const v1::Event& e : feed.Next(std::min(left, options.poll_interval))) {
      if (e.nodes_total() > 0 && e.generation() >= options.min_generation) {
        from_events =
            ReadyCount{static_cast<int>(e.nodes_ready()), static_cast<int>(e.nodes_total())};
      }
    }
    absl::StatusOr<v1::Sandbox> now = Get(client, start.sandbox_id(), deadline);
    if (now.ok()) {
      current = *std::move(now);
    } else if (now.status().code() == absl::StatusCode::kNotFound &&
               options.goal == WaitGoal::kDestroyed) {
      current.set_phase(v1::SANDBOX_PHASE_DESTROYED);  // a controller may forget it entirely
    } else if (!Retryable(now.status())) {
      return now.status();
    }
  }
}

}  // namespace labrack::cli
