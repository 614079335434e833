// LabController.WatchEvents: replays the store's events after the client's sequence number,
// then streams new ones as they are appended, until the client cancels. Each call has one
// thread of its own that waits on the store; it touches the reactor for the last time when
// it calls Finish().
#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "controller/service/blocking_write_reactor.h"
#include "controller/service/call_gate.h"
#include "controller/service/controller_service.h"

namespace labrack::controller {
namespace {

constexpr size_t kBatch = 256;
constexpr absl::Duration kWaitSlice = absl::Seconds(1);

class WatchReactor : public BlockingWriteReactor<v1::Event> {
 public:
  WatchReactor(Store* store, v1::WatchEventsRequest request)
      : store_(store), request_(std::move(request)) {
    Start();
  }

 private:
  absl::Status Stream() override {
    if (!request_.sandbox_id().empty()) {
      const std::string& id = request_.sandbox_id();
      RETURN_IF_ERROR(ValidateSandboxId("sandbox_id", id));
      absl::Status known = store_->GetSandbox(id).status();
      if (absl::IsNotFound(known)) {
        return absl::NotFoundError(absl::StrCat("sandbox ", id, " not found"));
      }
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

  Store* const store_;
  const v1::WatchEventsRequest request_;
};

}  // namespace

grpc::ServerWriteReactor<v1::Event>* ControllerService::WatchEvents(
    grpc::CallbackServerContext* ctx, const v1::WatchEventsRequest* req) {
  absl::StatusOr<Caller> caller =
      AdmitCall(*parts_.access, *ctx, "LabController/WatchEvents", req->sandbox_id());
  if (!caller.ok()) return new RefusedWriter<v1::Event>(caller.status());
  return new WatchReactor(parts_.store, *req);
}

}  // namespace labrack::controller
