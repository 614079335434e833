#include "bench/event_watcher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/bench_support.h"

namespace labrack::bench {
namespace {

// How often a waiter looks whether the run was interrupted.
constexpr absl::Duration kInterruptCheck = absl::Milliseconds(100);

}  // namespace

EventWatcher::EventWatcher(v1::LabController::Stub& stub) {
  reader_ = stub.WatchEvents(&ctx_, v1::WatchEventsRequest());
  thread_ = std::thread([this] { Read(); });
}

EventWatcher::~EventWatcher() {
  ctx_.TryCancel();
  thread_.join();
}

void EventWatcher::Read() {
  for (v1::Event e; reader_->Read(&e);) {
    absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    ++counts_[e.kind()];
    if (e.kind() != v1::EVENT_KIND_SANDBOX_PHASE) continue;
    arrived_.emplace(std::make_pair(e.sandbox_id(), static_cast<int>(e.phase())), now);
    if (e.phase() == v1::SANDBOX_PHASE_FAILED) failed_[e.sandbox_id()] = e.message();
  }
  reader_->Finish().ok();  // cancelled by the destructor, or the server went away
  absl::MutexLock lock(&mu_);
  ended_ = true;
}

absl::StatusOr<absl::Time> EventWatcher::WaitForPhase(const std::string& id,
                                                      v1::SandboxPhase phase,
                                                      absl::Time deadline) {
  auto key = std::make_pair(id, static_cast<int>(phase));
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return arrived_.contains(key) || failed_.contains(id) || ended_ || Interrupted();
  };
  absl::MutexLock lock(&mu_);
  while (!done() && absl::Now() < deadline) {
    mu_.AwaitWithDeadline(absl::Condition(&done), std::min(deadline, absl::Now() + kInterruptCheck));
  }
  if (auto it = arrived_.find(key); it != arrived_.end()) return it->second;
  if (auto it = failed_.find(id); it != failed_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("sandbox ", id, " FAILED: ", it->second));
  }
  if (ended_) return absl::UnavailableError("the controller's event stream ended");
  if (Interrupted()) return absl::CancelledError("interrupted");
  return absl::DeadlineExceededError(absl::StrCat("sandbox ", id, " did not reach ",
                                                  v1::SandboxPhase_Name(phase), " in time"));
}

std::optional<absl::Time> EventWatcher::Arrived(const std::string& id, v1::SandboxPhase phase) {
  absl::MutexLock lock(&mu_);
  auto it = arrived_.find(std::make_pair(id, static_cast<int>(phase)));
  if (it == arrived_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> EventWatcher::Failure(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = failed_.find(id);
  if (it == failed_.end()) return std::nullopt;
  return it->second;
}

int EventWatcher::Count(v1::EventKind kind) {
  absl::MutexLock lock(&mu_);
  auto it = counts_.find(kind);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace labrack::bench
