// Only the newest snapshot is kept: each one is the whole session, so a reader that fell
// behind loses nothing by skipping the ones in between.
#include "cli/session_feed.h"

#include <utility>

namespace labrack::cli {

SessionFeed::SessionFeed(ControllerClient& client, std::string session, absl::Time deadline,
                         absl::Duration reconnect_pause) {
  thread_ = std::thread([this, &client, session = std::move(session), deadline, reconnect_pause] {
    Run(client, session, deadline, reconnect_pause);
  });
}

SessionFeed::~SessionFeed() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    // TryCancel before the call started cancels it as soon as it does.
    if (open_call_ != nullptr) open_call_->TryCancel();
  }
  thread_.join();
}

std::optional<v1::Session> SessionFeed::Next(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto fresh = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return latest_.has_value(); };
  mu_.AwaitWithTimeout(absl::Condition(&fresh), timeout);
  return std::exchange(latest_, std::nullopt);
}

void SessionFeed::Run(ControllerClient& client, const std::string& session, absl::Time deadline,
                      absl::Duration reconnect_pause) {
  for (;;) {
    bool ended = false;
    grpc::Status status = ReadOnce(client, session, deadline, &ended);
    grpc::StatusCode code = status.error_code();
    if (ended || code == grpc::StatusCode::UNIMPLEMENTED || code == grpc::StatusCode::NOT_FOUND ||
        code == grpc::StatusCode::INVALID_ARGUMENT) {
      return;
    }
    absl::MutexLock lock(&mu_);
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&stopping), reconnect_pause);
    if (stopping_ || absl::Now() >= deadline) return;
  }
}

grpc::Status SessionFeed::ReadOnce(ControllerClient& client, const std::string& session,
                                   absl::Time deadline, bool* ended) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(deadline));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return grpc::Status::CANCELLED;
    open_call_ = &ctx;
  }
  v1::GetSessionRequest req;
  req.set_session(session);
  std::unique_ptr<grpc::ClientReader<v1::Session>> reader = client.stub().WatchSession(&ctx, req);
  v1::Session snapshot;
  while (reader->Read(&snapshot)) {
    *ended = snapshot.phase() == v1::SESSION_PHASE_ENDED;
    absl::MutexLock lock(&mu_);
    latest_ = snapshot;
  }
  grpc::Status status = reader->Finish();
  absl::MutexLock lock(&mu_);
  open_call_ = nullptr;
  return status;
}

}  // namespace labrack::cli
