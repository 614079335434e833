// Runs at most one task per key, each on its own thread, and waits for all of them on
// Stop(). The reconciler uses it so that a sandbox is never driven twice at once while
// different sandboxes progress in parallel. Thread-safe.
#ifndef LABRACK_CONTROLLER_RECONCILER_TASK_RUNNER_H_
#define LABRACK_CONTROLLER_RECONCILER_TASK_RUNNER_H_

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"

namespace labrack::controller {

class TaskRunner {
 public:
  TaskRunner() : state_(std::make_shared<State>()) {}
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;
  ~TaskRunner() { Stop(); }

  // Starts `task` unless one with the same key is running or the runner is stopping.
  bool TryStart(const std::string& key, std::function<void()> task);
  bool Running(const std::string& key);
  // True once Stop() began: long tasks check it and return early.
  bool stopping();
  // Refuses new tasks and waits until the running ones have returned.
  void Stop();

 private:
  // Shared with the task threads, which may still be unlocking it when Stop() returns.
  struct State {
    absl::Mutex mu;
    std::set<std::string> running ABSL_GUARDED_BY(mu);
    bool stopping ABSL_GUARDED_BY(mu) = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_RECONCILER_TASK_RUNNER_H_
