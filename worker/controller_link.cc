#include "worker/controller_link.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "common/grpc_util.h"

namespace labrack::worker {
namespace {

// gRPC's own reconnect backoff (up to 2 minutes by default) would keep the channel failing
// fast long after the controller is back; it follows ours instead.
std::shared_ptr<grpc::Channel> ControllerChannel(const HostAgentOptions& options) {
  grpc::ChannelArguments args;
  int initial = static_cast<int>(absl::ToInt64Milliseconds(options.initial_backoff));
  int max = static_cast<int>(absl::ToInt64Milliseconds(options.max_backoff));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::max(initial, 1));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::max(initial, 1));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, std::max(max, 1));
  return grpc::CreateCustomChannel(
      options.controller,
      options.credentials ? options.credentials : grpc::InsecureChannelCredentials(), args);
}

bool IsUnreachable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

}  // namespace

HostAgent::HostAgent(HostAgentOptions options, InventoryFn inventory)
    : options_(std::move(options)),
      inventory_(std::move(inventory)),
      stub_(v1::LabController::NewStub(ControllerChannel(options_))),
      interval_(options_.default_heartbeat),
      backoff_(options_.initial_backoff),
      refresh_interval_(options_.default_heartbeat) {}

std::unique_ptr<HostAgent> HostAgent::Start(HostAgentOptions options, InventoryFn inventory) {
  std::unique_ptr<HostAgent> agent(new HostAgent(std::move(options), std::move(inventory)));
  absl::MutexLock lock(&agent->join_mu_);
  agent->refresher_ = std::thread([a = agent.get()] { a->Refresh(); });
  agent->thread_ = std::thread([a = agent.get()] { a->Run(); });
  return agent;
}

void HostAgent::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (call_ != nullptr) call_->TryCancel();
  }
  absl::MutexLock lock(&join_mu_);
  if (thread_.joinable()) thread_.join();
  if (refresher_.joinable()) refresher_.join();
}

void HostAgent::Refresh() {
  for (;;) {
    absl::StatusOr<v1::Inventory> inventory = inventory_();
    absl::MutexLock lock(&mu_);
    if (inventory.ok() || !latest_.ok()) {
      latest_ = std::move(inventory);
      built_at_ = absl::Now();
    }
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), refresh_interval_);
    if (stopping_) return;
  }
}

absl::StatusOr<v1::Inventory> HostAgent::Latest() {
  absl::MutexLock lock(&mu_);
  auto built = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !absl::IsNotFound(latest_.status());
  };
  // The first one is worth a short wait: registering without it is pointless.
  mu_.AwaitWithTimeout(absl::Condition(&built), options_.call_deadline);
  if (!latest_.ok()) return latest_.status();
  v1::Inventory inventory = *latest_;
  inventory.set_age_ms(static_cast<uint32_t>(absl::ToInt64Milliseconds(absl::Now() - built_at_)));
  return inventory;
}

void HostAgent::Run() {
  for (;;) {
    absl::Duration wait = Step();
    absl::MutexLock lock(&mu_);
    // Wakes early only to stop: a condition with a deadline, not a sleep.
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait);
    if (stopping_) return;
  }
}

// One register or heartbeat; returns how long to wait before the next.
absl::Duration HostAgent::Step() {
  absl::StatusOr<v1::Inventory> inventory = Latest();
  if (!inventory.ok()) {
    Note(LinkState::kNoInventory, inventory.status());
    return NextBackoff();
  }
  absl::Status sent = registered_ ? Heartbeat(*inventory) : Register(*inventory);
  if (stopping()) return absl::ZeroDuration();  // a cancelled call is no news
  if (sent.ok()) {
    Note(LinkState::kRegistered, sent);
    backoff_ = options_.initial_backoff;
    return interval_;
  }
  if (registered_ && absl::IsNotFound(sent)) {
    registered_ = false;
    Note(LinkState::kForgotten, sent);
    return absl::ZeroDuration();  // register again at once
  }
  Note(LinkState::kFailing, sent);
  // Once registered, keep the heartbeat's pace: the controller counts this host's silence,
  // and a controller too busy to answer one heartbeat must not hear nothing for longer.
  if (registered_) return interval_;
  return NextBackoff();
}

absl::Status HostAgent::Register(const v1::Inventory& inventory) {
  v1::RegisterHostRequest req;
  req.set_host_id(options_.host_id);
  req.set_address(options_.address);
  *req.mutable_inventory() = inventory;
  v1::RegisterHostResponse resp;
  absl::Status status =
      Call([&](grpc::ClientContext* ctx) { return stub_->RegisterHost(ctx, req, &resp); });
  if (!status.ok()) return status;
  registered_ = true;
  interval_ = resp.heartbeat_interval_ms() > 0 ? absl::Milliseconds(resp.heartbeat_interval_ms())
                                               : options_.default_heartbeat;
  absl::MutexLock lock(&mu_);
  refresh_interval_ = interval_;
  return absl::OkStatus();
}

absl::Status HostAgent::Heartbeat(const v1::Inventory& inventory) {
  v1::HeartbeatRequest req;
  req.set_host_id(options_.host_id);
  *req.mutable_inventory() = inventory;
  v1::HeartbeatResponse resp;
  return Call([&](grpc::ClientContext* ctx) { return stub_->Heartbeat(ctx, req, &resp); });
}

// Runs one unary call with the deadline, cancellable by Stop().
absl::Status HostAgent::Call(const std::function<grpc::Status(grpc::ClientContext*)>& rpc) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_deadline));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("the worker is stopping");
    call_ = &ctx;
  }
  grpc::Status status = rpc(&ctx);
  absl::MutexLock lock(&mu_);
  call_ = nullptr;
  return FromGrpc(status);
}

bool HostAgent::stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

absl::Duration HostAgent::NextBackoff() {
  absl::Duration wait = backoff_;
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  return wait;
}

// Logs a change of state (or of the kind of error), never a repeat of the same.
void HostAgent::Note(LinkState state, const absl::Status& status) {
  // Unavailable and DeadlineExceeded both mean "unreachable": one state, not two.
  absl::StatusCode code = IsUnreachable(status) ? absl::StatusCode::kUnavailable : status.code();
  if (state == state_ && code == last_code_) return;
  state_ = state;
  last_code_ = code;
  const std::string& c = options_.controller;
  switch (state) {
    case LinkState::kRegistered:
      spdlog::info("registered with controller {} as {} at {}; heartbeat every {} ms", c,
                   options_.host_id, options_.address, absl::ToInt64Milliseconds(interval_));
      break;
    case LinkState::kForgotten:
      spdlog::warn("controller {} does not know host {}: registering again", c, options_.host_id);
      break;
    case LinkState::kNoInventory:
      spdlog::warn("cannot build this host's inventory for controller {}: {}; retrying", c,
                   status.ToString());
      break;
    case LinkState::kFailing:
      spdlog::warn("controller {} {}: {}; retrying with backoff up to {}", c,
                   IsUnreachable(status) ? "unreachable" : "refused this worker", status.ToString(),
                   absl::FormatDuration(options_.max_backoff));
      break;
    case LinkState::kStarting:
      break;
  }
}

}  // namespace labrack::worker
