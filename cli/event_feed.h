// LabController.WatchEvents for one sandbox, read on a thread of its own so that a waiting
// command can wake up on each event and still poll at its own pace when events stop (or
// the controller does not stream them). Thread-safe.
#ifndef LABRACK_CLI_EVENT_FEED_H_
#define LABRACK_CLI_EVENT_FEED_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cli/controller_client.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::cli {

class EventFeed {
 public:
  // Starts watching the events of `sandbox_id` from the first one (after_seq 0) until
  // `deadline`. `client` must outlive the feed.
  EventFeed(ControllerClient& client, std::string sandbox_id, absl::Time deadline);
  // Cancels the call and joins the thread.
  ~EventFeed();
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // The events received since the last call, waiting up to `timeout` for one when there
  // are none yet. Empty after the timeout, also once the stream has ended: the caller then
  // goes on at its own polling pace.
  std::vector<v1::Event> Next(absl::Duration timeout);

 private:
  void Run(ControllerClient& client, std::string sandbox_id);

  grpc::ClientContext ctx_;
  absl::Mutex mu_;
  std::vector<v1::Event> events_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace labrack::cli

#endif  // LABRACK_CLI_EVENT_FEED_H_
