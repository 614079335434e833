// LabController.WatchSession for one session, read on a thread of its own so that a
// following command wakes up on each snapshot and still polls at its own pace when the
// stream breaks (it is opened again after a pause) or the controller does not offer it.
// Thread-safe.
#ifndef LABRACK_CLI_SESSION_FEED_H_
#define LABRACK_CLI_SESSION_FEED_H_

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cli/controller_client.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::cli {

class SessionFeed {
 public:
  // Watches `session` (id or name) until `deadline` or until a snapshot says ENDED. A
  // stream that ends early is opened again after `reconnect_pause`, unless the controller
  // answered UNIMPLEMENTED, NOT_FOUND or INVALID_ARGUMENT. `client` must outlive the feed.
  SessionFeed(ControllerClient& client, std::string session, absl::Time deadline,
              absl::Duration reconnect_pause = absl::Seconds(1));
  // Cancels the open call and joins the thread.
  ~SessionFeed();
  SessionFeed(const SessionFeed&) = delete;
  SessionFeed& operator=(const SessionFeed&) = delete;

  // The newest snapshot received since the last call, waiting up to `timeout` for one;
  // nullopt when none came (also once the feed gave up: the caller then polls).
  std::optional<v1::Session> Next(absl::Duration timeout);

 private:
  void Run(ControllerClient& client, const std::string& session, absl::Time deadline,
           absl::Duration reconnect_pause);
  // Reads one WatchSession call until it ends; returns its status and whether the last
  // snapshot was ENDED.
  grpc::Status ReadOnce(ControllerClient& client, const std::string& session, absl::Time deadline,
                        bool* ended);

  absl::Mutex mu_;
  std::optional<v1::Session> latest_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* open_call_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace labrack::cli

#endif  // LABRACK_CLI_SESSION_FEED_H_
