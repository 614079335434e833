// Runs one blocking call (e.g. a worker create that waits for readiness) on a thread of its
// own, so that its caller can report progress and give up without waiting for it. The
// call must capture only what it owns: an abandoned call finishes on its own later.
// Thread-safe.
#ifndef LABRACK_CONTROLLER_RECONCILER_BACKGROUND_CALL_H_
#define LABRACK_CONTROLLER_RECONCILER_BACKGROUND_CALL_H_

#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace labrack::controller {

template <typename T>
class BackgroundCall {
 public:
  explicit BackgroundCall(std::function<absl::StatusOr<T>()> call)
      : state_(std::make_shared<State>()) {
    std::thread([state = state_, call = std::move(call)] {
      absl::StatusOr<T> result = call();
      absl::MutexLock lock(&state->mu);
      state->result = std::move(result);
      state->done = true;
    }).detach();
  }

  // Waits at most `timeout`; true when the call has finished.
  bool WaitFor(absl::Duration timeout) {
    absl::MutexLock lock(&state_->mu);
    state_->mu.AwaitWithTimeout(absl::Condition(&state_->done), timeout);
    return state_->done;
  }

  // The call's result; only meaningful after WaitFor returned true.
  absl::StatusOr<T> result() {
    absl::MutexLock lock(&state_->mu);
    return state_->result;
  }

 private:
  struct State {
    absl::Mutex mu;
    bool done = false;
    absl::StatusOr<T> result = absl::UnknownError("not finished");
  };
  std::shared_ptr<State> state_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_RECONCILER_BACKGROUND_CALL_H_
