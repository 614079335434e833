#include "worker/service/console_reactor.h"

#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/names.h"
#include "common/status_macros.h"
#include "worker/service/worker_service.h"
#include "common/grpc_util.h"

namespace labrack::worker {
namespace {

// Keystrokes buffered before the client's stream is paused (they wait for the guest).
constexpr size_t kMaxPendingInput = 64 << 10;
// Guest output per ConsoleOutput message.
constexpr size_t kMaxOutputChunk = 64 << 10;

// Lifetime: gRPC owns the reactor until OnDone. The session thread (Run) exists from the
// `open` message until it calls Finish(), its last touch of the reactor; it joins the
// input thread before that. Without an `open`, the callbacks Finish() themselves.
class ConsoleReactor : public grpc::ServerBidiReactor<v1::ConsoleInput, v1::ConsoleOutput> {
 public:
  ConsoleReactor(SandboxManager* sandboxes, Hypervisor* hv, ConsoleRegistry* registry)
      : sandboxes_(sandboxes), hv_(hv), registry_(registry) {
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    absl::Status refused;
    {
      absl::MutexLock lock(&mu_);
      if (phase_ != Phase::kAwaitOpen) return TakeInput(ok);
      if (ok && in_.has_open()) {
        phase_ = Phase::kOpening;
        std::thread(&ConsoleReactor::Run, this, in_.open()).detach();
        StartRead(&in_);
        return;
      }
      phase_ = Phase::kFinished;
      refused =
          absl::InvalidArgumentError("open: the first message must name the sandbox and the node");
    }
    Finish(ToGrpc(refused));
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) client_gone_ = true;
  }

  void OnCancel() override {
    std::shared_ptr<ConsoleStream> console;
    bool unopened;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      console = console_;
      unopened = phase_ == Phase::kAwaitOpen;
      if (unopened) phase_ = Phase::kFinished;
    }
    if (console) console->Close();  // wakes the session thread's Read()
    if (unopened) Finish(ToGrpc(absl::CancelledError("the client went away")));
  }

  void OnDone() override { delete this; }

 private:
  enum class Phase { kAwaitOpen, kOpening, kOpen, kFinished };

  // A message after `open`, or the end of the client's messages (!ok).
  void TakeInput(bool ok) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (phase_ == Phase::kFinished) return;
    if (!ok) {
      input_closed_ = true;
      return;
    }
    if (in_.has_open()) {
      input_closed_ = true;
      input_error_ = absl::InvalidArgumentError("open: only the first message may open a console");
      return;
    }
    input_ += in_.data();
    if (input_.size() < kMaxPendingInput) {
      StartRead(&in_);
    } else {
      read_paused_ = true;  // PumpInput resumes reading once the guest took the bytes
    }
  }

  // The session thread: opens the console, relays it, then ends the call.
  void Run(v1::ConsoleOpen open) {
    absl::Status status = Serve(open);
    {
      absl::MutexLock lock(&mu_);
      phase_ = Phase::kFinished;
    }
    Finish(ToGrpc(status));
  }

  absl::Status Serve(const v1::ConsoleOpen& open) {
    ASSIGN_OR_RETURN(std::shared_ptr<ConsoleStream> console, Open(open));
    RETURN_IF_ERROR(registry_->Add(console));
    absl::Cleanup unregister = [&] { registry_->Remove(console.get()); };
    // Keystrokes that arrive meanwhile wait in the opening phase's buffer.
    if (!SendOpened()) return absl::CancelledError("the client went away");
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return absl::CancelledError("the client went away");
      console_ = console;
      phase_ = Phase::kOpen;
    }
    std::thread input([this, console] { PumpInput(*console); });
    absl::Status status = PumpOutput(*console);
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      console_ = nullptr;
    }
    console->Close();  // wakes nothing now, but fails the input thread's later writes fast
    input.join();
    absl::MutexLock lock(&mu_);
    return status.ok() ? input_error_ : status;
  }

  absl::StatusOr<std::shared_ptr<ConsoleStream>> Open(const v1::ConsoleOpen& open) {
    RETURN_IF_ERROR(ValidateSandboxId("open.sandbox_id", open.sandbox_id()));
    RETURN_IF_ERROR(ValidateObjectName("open.node", open.node()));
    ASSIGN_OR_RETURN(v1::SandboxStatus sandbox, sandboxes_->GetSandbox(open.sandbox_id()));
    std::vector<std::string> nodes;
    for (const v1::NodeStatus& n : sandbox.nodes()) nodes.push_back(n.name());
    if (std::find(nodes.begin(), nodes.end(), open.node()) == nodes.end()) {
      return absl::NotFoundError(absl::StrCat("sandbox ", open.sandbox_id(), " has no node ",
                                              open.node(), " (it has: ", absl::StrJoin(nodes, ", "),
                                              ")"));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<ConsoleStream> console,
                     hv_->OpenConsole(DomainName(open.sandbox_id(), open.node())));
    return std::shared_ptr<ConsoleStream>(std::move(console));
  }

  // Guest -> client until the console ends (closed by the guest, by OnCancel, by the input
  // thread after the client's half-close, or by a worker shutdown) or the client goes away.
  absl::Status PumpOutput(ConsoleStream& console) {
    for (;;) {
      ASSIGN_OR_RETURN(std::string data, console.Read());
      if (data.empty()) return absl::OkStatus();
      if (!Send(data)) return absl::CancelledError("the client went away");
    }
  }

  // One write in flight at a time, as gRPC requires: waits for OnWriteDone.
  bool Send(absl::string_view data) {
    absl::MutexLock lock(&mu_);
    while (!data.empty()) {
      if (cancelled_ || client_gone_) return false;
      size_t n = std::min(data.size(), kMaxOutputChunk);
      out_.set_data(data.data(), n);
      data.remove_prefix(n);
      WriteOut();
    }
    return !cancelled_ && !client_gone_;
  }

  // The first answer, empty: the console is open (a refusal ends the call before it).
  bool SendOpened() {
    absl::MutexLock lock(&mu_);
    if (cancelled_ || client_gone_) return false;
    out_.clear_data();
    WriteOut();
    return !cancelled_ && !client_gone_;
  }

  void WriteOut() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    writing_ = true;
    StartWrite(&out_);
    mu_.Await(absl::Condition(
        +[](ConsoleReactor* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) { return !r->writing_; },
        this));
  }

  // The input thread: client keystrokes -> guest. After the client's half-close it closes
  // the console, which ends the session.
  void PumpInput(ConsoleStream& console) {
    for (;;) {
      std::string data;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &ConsoleReactor::InputReady));
        if (stopping_ || cancelled_) return;
        if (input_.empty()) break;  // input closed and everything written
        data.swap(input_);
        if (read_paused_) {
          read_paused_ = false;
          StartRead(&in_);
        }
      }
      absl::Status written = console.Write(data);
      if (!written.ok()) {
        absl::MutexLock lock(&mu_);
        input_error_ = written;
        break;
      }
    }
    console.Close();
  }

  bool InputReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !input_.empty() || input_closed_ || stopping_ || cancelled_;
  }

  SandboxManager* const sandboxes_;
  Hypervisor* const hv_;
  ConsoleRegistry* const registry_;
  v1::ConsoleInput in_;  // owned by the one outstanding read
  absl::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kAwaitOpen;
  std::shared_ptr<ConsoleStream> console_ ABSL_GUARDED_BY(mu_);
  v1::ConsoleOutput out_ ABSL_GUARDED_BY(mu_);
  std::string input_ ABSL_GUARDED_BY(mu_);
  absl::Status input_error_ ABSL_GUARDED_BY(mu_);
  bool input_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool client_gone_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::Status ConsoleRegistry::Add(std::shared_ptr<ConsoleStream> console) {
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      open_.emplace(console.get(), std::move(console));
      return absl::OkStatus();
    }
  }
  console->Close();
  return absl::UnavailableError("the worker is shutting down");
}

void ConsoleRegistry::Remove(const ConsoleStream* console) {
  std::shared_ptr<ConsoleStream> last;  // released outside the lock
  absl::MutexLock lock(&mu_);
  auto it = open_.find(console);
  if (it == open_.end()) return;
  last = std::move(it->second);
  open_.erase(it);
}

void ConsoleRegistry::CloseAll() {
  std::map<const ConsoleStream*, std::shared_ptr<ConsoleStream>> open;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    open = open_;
  }
  for (auto& [ptr, console] : open) console->Close();
}

grpc::ServerBidiReactor<v1::ConsoleInput, v1::ConsoleOutput>* NewConsoleReactor(
    SandboxManager* sandboxes, Hypervisor* hypervisor, ConsoleRegistry* registry) {
  return new ConsoleReactor(sandboxes, hypervisor, registry);
}

}  // namespace labrack::worker
