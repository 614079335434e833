// LabController.WatchEvents: replays the store's events after the client's sequence number,
// then streams new ones as they are appended, until the client cancels. Each call has one
// thread of its own that waits on the store; it touches the reactor for the last time when
// it calls Finish().
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/grpc_util.h"
#include "controller/service/controller_service.h"

namespace labrack::controller {
namespace {

constexpr size_t kBatch = 256;
constexpr absl::Duration kWaitSlice = absl::Seconds(1);

class WatchReactor : public grpc::ServerWriteReactor<v1::Event> {
 public:
  WatchReactor(Store* store, v1::WatchEventsRequest request)
      : store_(store), request_(std::move(request)) {
    std::thread([this] { Run(); }).detach();
  }

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

 private:
  void Run() { Finish(ToGrpc(Stream())); }

  absl::Status Stream() {
    if (!request_.sandbox_id().empty()) {
      absl::Status known = ValidateSandbox();
      if (!known.ok()) return known;
    }
    uint64_t after = request_.after_seq();
    for (;;) {
      absl::StatusOr<std::vector<v1::Event>> events =
          store_->ListEvents(after, request_.sandbox_id(), kBatch);
      if (!events.ok()) return events.status();
      for (const v1::Event& e : *events) {
        if (!Write(e)) return absl::CancelledError("the client went away");
        after = e.seq();
      }
      if (Cancelled()) return absl::CancelledError("the client went away");
      if (events->empty()) store_->WaitForEvent(after, absl::Now() + kWaitSlice);
    }
  }

  absl::Status ValidateSandbox() { return store_->GetSandbox(request_.sandbox_id()).status(); }

  // Sends one event and waits until gRPC took it; false when the call is over.
  bool Write(const v1::Event& event) {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return false;
    current_ = event;
    writing_ = true;
    StartWrite(&current_);
    mu_.Await(absl::Condition(
        +[](WatchReactor* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) { return !r->writing_; }, this));
    return !cancelled_;
  }

  bool Cancelled() {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

  Store* const store_;
  const v1::WatchEventsRequest request_;
  absl::Mutex mu_;
  v1::Event current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::ServerWriteReactor<v1::Event>* ControllerService::WatchEvents(
    grpc::CallbackServerContext*, const v1::WatchEventsRequest* req) {
  return new WatchReactor(parts_.store, *req);
}

}  // namespace labrack::controller
