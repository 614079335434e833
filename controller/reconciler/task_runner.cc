#include "controller/reconciler/task_runner.h"

#include <thread>

namespace labrack::controller {

bool TaskRunner::TryStart(const std::string& key, std::function<void()> task) {
  {
    absl::MutexLock lock(&state_->mu);
    if (state_->stopping || !state_->running.insert(key).second) return false;
  }
  std::thread([state = state_, key, task = std::move(task)] {
    task();
    absl::MutexLock lock(&state->mu);
    state->running.erase(key);
  }).detach();
  return true;
}

bool TaskRunner::Running(const std::string& key) {
  absl::MutexLock lock(&state_->mu);
  return state_->running.contains(key);
}

bool TaskRunner::stopping() {
  absl::MutexLock lock(&state_->mu);
  return state_->stopping;
}

void TaskRunner::Stop() {
  absl::MutexLock lock(&state_->mu);
  state_->stopping = true;
  state_->mu.Await(absl::Condition(
      +[](std::set<std::string>* running) { return running->empty(); }, &state_->running));
}

}  // namespace labrack::controller
