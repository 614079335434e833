// LabController.AttachConsole: relays a node's serial console between the client and the
// worker that runs the node. The first client message names the sandbox and node; later
// ones are keystrokes, passed on as they come. The first answer, once the console is open,
// is empty. A thread of its own opens the worker's
// console and pumps the guest's output to the client; it touches the reactor for the last
// time when it calls Finish().
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_util.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "controller/service/call_gate.h"
#include "controller/service/controller_service.h"

namespace labrack::controller {
namespace {

class ConsoleReactor : public grpc::ServerBidiReactor<v1::ConsoleInput, v1::ConsoleOutput> {
 public:
  // `admit` says whether the caller may open the console of a sandbox, and records it.
  ConsoleReactor(Store* store, WorkerDirectory* workers,
                 std::function<absl::Status(const std::string&)> admit)
      : store_(store), workers_(workers), admit_(std::move(admit)) {
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    bool opened;
    {
      absl::MutexLock lock(&mu_);
      opened = opened_;
      if (!opened && ok && in_.has_open()) {
        opened_ = true;
        std::thread([this, open = in_.open()] { Finish(ToGrpc(Relay(open))); }).detach();
        StartRead(&in_);
        return;
      }
    }
    if (!opened) {
      return FinishUnopened(absl::InvalidArgumentError(
          "open: the first message must name the sandbox and the node"));
    }
    if (!ok) return;  // the client sent all it had; output keeps flowing until it cancels
    Forward(in_.data());
    StartRead(&in_);
  }
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) cancelled_ = true;
  }
  void OnCancel() override {
    std::shared_ptr<ConsoleRelay> relay;
    bool opened;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      relay = relay_;
      opened = opened_;
    }
    if (relay) relay->Close();
    if (!opened) FinishUnopened(absl::CancelledError("the client went away"));
  }
  void OnDone() override { delete this; }

 private:
  // Ends a call that never opened a console (no relay thread exists to end it).
  void FinishUnopened(const absl::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (opened_) return;
      opened_ = true;  // nothing may open it now
    }
    Finish(ToGrpc(status));
  }

  absl::StatusOr<std::shared_ptr<ConsoleRelay>> Open(const v1::ConsoleOpen& open) {
    RETURN_IF_ERROR(ValidateSandboxId("open.sandbox_id", open.sandbox_id()));
    RETURN_IF_ERROR(ValidateObjectName("open.node", open.node()));
    RETURN_IF_ERROR(admit_(open.sandbox_id()));
    absl::StatusOr<v1::Sandbox> sandbox = store_->GetSandbox(open.sandbox_id());
    if (absl::IsNotFound(sandbox.status())) {
      return absl::NotFoundError(absl::StrCat("sandbox ", open.sandbox_id(), " not found"));
    }
    RETURN_IF_ERROR(sandbox.status());
    if (sandbox->phase() != v1::SANDBOX_PHASE_READY &&
        sandbox->phase() != v1::SANDBOX_PHASE_PROVISIONING) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sandbox ", open.sandbox_id(), " is ", v1::SandboxPhase_Name(sandbox->phase()),
          "; consoles are open while it is PROVISIONING or READY"));
    }
    ASSIGN_OR_RETURN(HostRecord host, store_->GetHost(sandbox->host_id()));
    ASSIGN_OR_RETURN(std::unique_ptr<ConsoleRelay> relay,
                     workers_->ForAddress(host.host.address())->AttachConsole(open.sandbox_id(), open.node()));
    return std::shared_ptr<ConsoleRelay>(std::move(relay));
  }

  absl::Status Relay(const v1::ConsoleOpen& open) {
    ASSIGN_OR_RETURN(std::shared_ptr<ConsoleRelay> relay, Open(open));
    std::string pending;
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return absl::CancelledError("the client went away");
      relay_ = relay;
      pending.swap(pending_);
    }
    // An empty first answer tells the client that the console is open: a refusal ends the
    // call before any answer.
    if (!Write("")) return absl::CancelledError("the client went away");
    if (!pending.empty()) RETURN_IF_ERROR(relay->Write(pending));
    for (;;) {
      ASSIGN_OR_RETURN(std::string data, relay->Read());
      if (data.empty()) return absl::OkStatus();  // the guest's console closed
      if (!Write(data)) return absl::CancelledError("the client went away");
    }
  }

  void Forward(const std::string& data) {
    std::shared_ptr<ConsoleRelay> relay;
    {
      absl::MutexLock lock(&mu_);
      if (!relay_) {
        pending_ += data;  // the console is still being opened
        return;
      }
      relay = relay_;
    }
    relay->Write(data).IgnoreError();
  }

  bool Write(const std::string& data) {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return false;
    out_.set_data(data);
    writing_ = true;
    StartWrite(&out_);
    mu_.Await(absl::Condition(
        +[](ConsoleReactor* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) { return !r->writing_; }, this));
    return !cancelled_;
  }

  Store* const store_;
  WorkerDirectory* const workers_;
  const std::function<absl::Status(const std::string&)> admit_;
  v1::ConsoleInput in_;
  absl::Mutex mu_;
  v1::ConsoleOutput out_ ABSL_GUARDED_BY(mu_);
  bool opened_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<ConsoleRelay> relay_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::ServerBidiReactor<v1::ConsoleInput, v1::ConsoleOutput>* ControllerService::AttachConsole(
    grpc::CallbackServerContext* ctx) {
  static constexpr char kMethod[] = "LabController/AttachConsole";
  absl::StatusOr<Caller> caller =
      parts_.access->AdmitRole(AuthorizationOf(*ctx), kMethod, ctx->peer());
  // A refused caller still gets a reactor: it answers the first message with the refusal.
  return new ConsoleReactor(
      parts_.store, parts_.workers,
      [access = parts_.access, caller](const std::string& sandbox_id) -> absl::Status {
        if (!caller.ok()) return caller.status();
        absl::Status admitted = access->AdmitTarget(*caller, kMethod, sandbox_id);
        // Every attach is recorded, whether it then reaches the guest or not.
        if (admitted.ok()) access->Record(*caller, kMethod, sandbox_id, admitted);
        return admitted;
      });
}

}  // namespace labrack::controller
