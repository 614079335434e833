// A console session: the calling thread reads local input and writes to the stream; an
// output thread reads the stream and writes to io.out. gRPC's sync streams allow one
// reader and one writer at a time, which is exactly this. The session ends through
// TryCancel (escape, idle timeout, input error) or the controller finishing the call.
#include "cli/console.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "cli/terminal.h"

namespace labrack::cli {
namespace {

constexpr size_t kInputChunk = 64 << 10;
// How often the input loop looks whether the output side ended.
constexpr absl::Duration kInputPoll = absl::Milliseconds(100);

using Stream = grpc::ClientReaderWriter<v1::ConsoleInput, v1::ConsoleOutput>;

class ConsoleSession {
 public:
  ConsoleSession(ControllerClient& client, const ConsoleOptions& options, const Io& io)
      : client_(client), options_(options), io_(io) {}

  absl::Status Run() {
    client_.SetDeadline(ctx_, options_.session_timeout);
    stream_ = client_.stub().AttachConsole(&ctx_);
    v1::ConsoleInput open;
    open.mutable_open()->set_sandbox_id(options_.sandbox_id);
    open.mutable_open()->set_node(options_.node);
    absl::Status input_status;
    if (stream_->Write(open) && AwaitOpened()) {
      std::thread output(&ConsoleSession::PumpOutput, this);
      input_status = Interactive() ? PumpTerminal() : PumpScript();
      output.join();
      if (Interactive()) io_.err << "\nDisconnected from " << options_.node << "\n";
    }
    grpc::Status status = stream_->Finish();
    if (!input_status.ok()) return input_status;
    absl::MutexLock lock(&mu_);
    if (cancelled_by_us_ || status.ok()) return absl::OkStatus();
    return client_.ToStatus(status);
  }

 private:
  bool Interactive() const { return io_.stdin_is_tty && io_.stdin_fd >= 0; }

  // The controller's first answer comes once the console is open (a refusal ends the call
  // instead): only then does the user read "Connected". False when the call ended.
  bool AwaitOpened() {
    v1::ConsoleOutput first;
    if (!stream_->Read(&first)) return false;
    io_.err << "Connected to " << options_.node << " of sandbox " << options_.sandbox_id
            << "; escape with Ctrl-]\n"
            << std::flush;
    Print(first);
    return true;
  }

  void Print(const v1::ConsoleOutput& out) {
    io_.out.write(out.data().data(), static_cast<std::streamsize>(out.data().size()));
    io_.out.flush();
  }

  void PumpOutput() {
    v1::ConsoleOutput out;
    while (stream_->Read(&out)) {
      Print(out);
      absl::MutexLock lock(&mu_);
      last_activity_ = absl::Now();
    }
    absl::MutexLock lock(&mu_);
    output_done_ = true;
  }

  bool OutputDone() {
    absl::MutexLock lock(&mu_);
    return output_done_;
  }

  // Ends the call from our side, unless the controller ended it already (then its status
  // stands, e.g. NOT_FOUND for an unknown node).
  void Cancel() {
    {
      absl::MutexLock lock(&mu_);
      if (output_done_) return;
      cancelled_by_us_ = true;
    }
    ctx_.TryCancel();
  }

  bool Send(const std::string& data) {
    if (data.empty()) return true;
    v1::ConsoleInput in;
    in.set_data(data);
    return stream_->Write(in);
  }

  // Raw terminal: everything typed goes to the guest until Ctrl-] or the end of the call.
  absl::Status PumpTerminal() {
    absl::StatusOr<std::unique_ptr<RawTerminal>> raw = RawTerminal::Enter(io_.stdin_fd);
    absl::Status status = raw.status();
    std::unique_ptr<InputSource> input = NewFdInput(io_.stdin_fd);
    while (status.ok() && !OutputDone()) {
      bool eof = false;
      absl::StatusOr<std::string> data = input->Read(kInputChunk, kInputPoll, &eof);
      if (!data.ok()) status = data.status();
      if (!data.ok() || eof) break;  // the terminal went away
      size_t escape = data->find(kConsoleEscape);
      if (!Send(data->substr(0, escape)) || escape != std::string::npos) break;
    }
    Cancel();  // ends the output thread; the guest keeps running
    return status;
  }

  // Scripted: all of stdin, then output until the call ends or the console is quiet.
  absl::Status PumpScript() {
    std::unique_ptr<InputSource> input =
        io_.stdin_fd >= 0 ? NewFdInput(io_.stdin_fd) : NewStreamInput(io_.in);
    for (;;) {
      if (OutputDone()) return absl::OkStatus();
      bool eof = false;
      absl::StatusOr<std::string> data = input->Read(kInputChunk, kInputPoll, &eof);
      if (!data.ok()) {
        Cancel();
        return data.status();
      }
      if (eof) break;
      if (!Send(*data)) return absl::OkStatus();  // the call ended; Finish says how
    }
    stream_->WritesDone();
    WaitUntilQuiet();
    return absl::OkStatus();
  }

  void WaitUntilQuiet() {
    absl::MutexLock lock(&mu_);
    last_activity_ = std::max(last_activity_, absl::Now());
    while (!output_done_) {
      absl::Time quiet_at = last_activity_ + options_.idle_timeout;
      if (absl::Now() >= quiet_at) {
        cancelled_by_us_ = true;
        ctx_.TryCancel();
        return;
      }
      mu_.AwaitWithDeadline(absl::Condition(&output_done_), quiet_at);
    }
  }

  ControllerClient& client_;
  const ConsoleOptions& options_;
  const Io& io_;
  grpc::ClientContext ctx_;
  std::unique_ptr<Stream> stream_;
  absl::Mutex mu_;
  bool output_done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_by_us_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_activity_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace

absl::Status RunConsole(ControllerClient& client, const ConsoleOptions& options, const Io& io) {
  return ConsoleSession(client, options, io).Run();
}

}  // namespace labrack::cli
