// One blocking reader thread per feed; the destructor's TryCancel ends its Read().
#include "cli/event_feed.h"

#include <memory>
#include <utility>

namespace labrack::cli {

EventFeed::EventFeed(ControllerClient& client, std::string sandbox_id, absl::Time deadline) {
  ctx_.set_deadline(absl::ToChronoTime(deadline));
  thread_ = std::thread(&EventFeed::Run, this, std::ref(client), std::move(sandbox_id));
}

EventFeed::~EventFeed() {
  ctx_.TryCancel();
  thread_.join();
}

void EventFeed::Run(ControllerClient& client, std::string sandbox_id) {
  v1::WatchEventsRequest req;
  req.set_after_seq(0);
  req.set_sandbox_id(std::move(sandbox_id));
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader = client.stub().WatchEvents(&ctx_, req);
  v1::Event event;
  while (reader->Read(&event)) {
    absl::MutexLock lock(&mu_);
    events_.push_back(event);
  }
  // Whatever ended the stream, the waiter goes on polling GetSandbox, which reports errors.
  reader->Finish().ok();
}

std::vector<v1::Event> EventFeed::Next(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(
      absl::Condition(
          +[](std::vector<v1::Event>* events) { return !events->empty(); }, &events_),
      timeout);
  return std::exchange(events_, {});
}

}  // namespace labrack::cli
