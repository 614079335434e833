// A server-streaming reactor whose body runs on a thread of its own and writes one message
// at a time, waiting until gRPC took it: for streams that wait on the store between
// messages (WatchEvents, WatchSession). The body returns the call's status; the reactor
// deletes itself when gRPC is done with it. Subclasses call Start() last in their
// constructor. Thread-safe.
#ifndef LABRACK_CONTROLLER_SERVICE_BLOCKING_WRITE_REACTOR_H_
#define LABRACK_CONTROLLER_SERVICE_BLOCKING_WRITE_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/grpc_util.h"

namespace labrack::controller {

template <typename Message>
class BlockingWriteReactor : public grpc::ServerWriteReactor<Message> {
 public:
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) cancelled_ = true;
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  void OnDone() override { delete this; }

 protected:
  // The stream's body: what it returns ends the call. It touches the reactor for the last
  // time by returning.
  virtual absl::Status Stream() = 0;

  void Start() {
    std::thread([this] { this->Finish(ToGrpc(Stream())); }).detach();
  }

  // Sends one message and waits until gRPC took it; false when the call is over.
  bool Write(const Message& message) {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return false;
    current_ = message;
    writing_ = true;
    this->StartWrite(&current_);
    mu_.Await(absl::Condition(
        +[](BlockingWriteReactor* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) { return !r->writing_; },
        this));
    return !cancelled_;
  }

  // Waits up to `timeout` for the client to go away; true when it did.
  bool WaitForCancel(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&cancelled_), timeout);
    return cancelled_;
  }

  bool Cancelled() {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

 private:
  absl::Mutex mu_;
  Message current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_SERVICE_BLOCKING_WRITE_REACTOR_H_
