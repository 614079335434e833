#include "controller/workers/grpc_console_relay.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "worker/client/image_upload.h"
#include "common/grpc_util.h"

namespace labrack::controller {
namespace {

using Stream = grpc::ClientReaderWriterInterface<v1::ConsoleInput, v1::ConsoleOutput>;

class GrpcConsoleRelay : public ConsoleRelay {
 public:
  // `pending`: output read before the relay was made, returned by the first Read().
  GrpcConsoleRelay(std::string address, std::unique_ptr<grpc::ClientContext> ctx,
                   std::unique_ptr<Stream> stream, std::string pending)
      : address_(std::move(address)),
        ctx_(std::move(ctx)),
        stream_(std::move(stream)),
        pending_(std::move(pending)) {}

  // The caller has no Read() or Write() running any more.
  ~GrpcConsoleRelay() override {
    Close();
    while (!ended_) (void)Read();  // to the end of the cancelled call, and Finish()
  }

  absl::Status Write(const std::string& data) override {
    absl::MutexLock lock(&write_mu_);
    if (closed()) return absl::FailedPreconditionError("console relay: closed");
    if (finished_) return Ended();
    v1::ConsoleInput in;
    in.set_data(data);
    if (!stream_->Write(in)) return Ended();
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Read() override {
    if (!pending_.empty()) return std::exchange(pending_, "");
    if (ended_) return EndOfStream();
    v1::ConsoleOutput out;
    while (stream_->Read(&out)) {
      if (!out.data().empty()) return std::move(*out.mutable_data());
    }
    ended_ = true;
    grpc::Status status;
    {
      absl::MutexLock lock(&write_mu_);  // Finish() runs alone, once
      status = stream_->Finish();
      finished_ = true;
    }
    if (!status.ok() && !closed()) end_ = FromGrpc(status);
    return EndOfStream();
  }

  void Close() override {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    ctx_->TryCancel();
  }

 private:
  // What Read() returns once the stream ended: empty, or how the worker ended it.
  absl::StatusOr<std::string> EndOfStream() const {
    if (!end_.ok()) return end_;
    return std::string();
  }

  absl::Status Ended() const {
    return absl::UnavailableError(absl::StrCat("console on worker ", address_, " has ended"));
  }

  bool closed() {
    absl::MutexLock lock(&mu_);
    return closed_;
  }

  const std::string address_;
  const std::unique_ptr<grpc::ClientContext> ctx_;
  const std::unique_ptr<Stream> stream_;
  absl::Mutex write_mu_;  // one Write() (or the Finish()) at a time
  bool finished_ ABSL_GUARDED_BY(write_mu_) = false;
  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // The reader's own: output not yet returned, whether the stream ended and how.
  std::string pending_;
  bool ended_ = false;
  absl::Status end_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ConsoleRelay>> OpenGrpcConsoleRelay(
    v1::LabWorker::StubInterface& stub, const std::string& address, const v1::ConsoleOpen& open,
    absl::Duration deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  std::unique_ptr<Stream> stream = stub.AttachConsole(ctx.get());
  v1::ConsoleInput first;
  *first.mutable_open() = open;
  v1::ConsoleOutput opened;  // empty, or (from an older worker) the guest's first output
  if (!stream->Write(first) || !stream->Read(&opened)) {
    grpc::Status status = stream->Finish();
    if (status.ok()) status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "closed at once");
    return absl::Status(FromGrpc(status).code(),
                        absl::StrCat("console on worker ", address, ": ", status.error_message()));
  }
  return std::unique_ptr<ConsoleRelay>(new GrpcConsoleRelay(
      address, std::move(ctx), std::move(stream), std::move(*opened.mutable_data())));
}

}  // namespace labrack::controller
