#include "worker/hypervisor/libvirt_console.h"

#include <libvirt/virterror.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "worker/hypervisor/libvirt_error.h"
#include "worker/hypervisor/libvirt_handles.h"

namespace labrack::worker {
namespace {

// How long a Write may wait for the guest to drain its input.
constexpr absl::Duration kWriteDeadline = absl::Seconds(10);

// State shared with libvirt's event thread. It outlives the stream callback registration:
// libvirt frees it through the callback's free function.
struct Shared {
  absl::Mutex mu;
  std::string pending ABSL_GUARDED_BY(mu);
  bool eof ABSL_GUARDED_BY(mu) = false;
  bool closed ABSL_GUARDED_BY(mu) = false;
  std::string error ABSL_GUARDED_BY(mu);
};

void OnStreamEvent(virStreamPtr stream, int events, void* opaque) {
  auto* shared = static_cast<std::shared_ptr<Shared>*>(opaque)->get();
  if (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)) {
    absl::MutexLock lock(&shared->mu);
    shared->eof = true;
    virStreamEventRemoveCallback(stream);
    return;
  }
  char buf[4096];
  for (;;) {
    int n = virStreamRecv(stream, buf, sizeof(buf));
    absl::MutexLock lock(&shared->mu);
    if (n > 0) {
      shared->pending.append(buf, n);
      continue;
    }
    if (n == -2) return;  // nothing more for now
    if (n < 0) {
      virErrorPtr err = virGetLastError();
      shared->error = err && err->message ? err->message : "console stream error";
    }
    shared->eof = true;
    virStreamEventRemoveCallback(stream);
    return;
  }
}

void FreeShared(void* opaque) { delete static_cast<std::shared_ptr<Shared>*>(opaque); }

class LibvirtConsole : public ConsoleStream {
 public:
  LibvirtConsole(StreamHandle stream, std::shared_ptr<Shared> shared, std::string name)
      : stream_(std::move(stream)), shared_(std::move(shared)), name_(std::move(name)) {}

  ~LibvirtConsole() override {
    Close();
    virStreamEventRemoveCallback(stream_.get());
    virStreamAbort(stream_.get());
    virResetLastError();
  }

  absl::Status Write(absl::string_view data) override {
    absl::Time deadline = absl::Now() + kWriteDeadline;
    while (!data.empty()) {
      int n = virStreamSend(stream_.get(), data.data(), data.size());
      if (n > 0) {
        data.remove_prefix(n);
      } else if (n == -2 && absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(5));
      } else if (n == -2) {
        return absl::DeadlineExceededError(absl::StrCat("console of ", name_, " is not draining"));
      } else {
        return absl::UnavailableError(LastLibvirtError(absl::StrCat("write to console of ", name_)).message());
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Read() override {
    absl::MutexLock lock(&shared_->mu);
    shared_->mu.Await(absl::Condition(
        +[](Shared* s) ABSL_SHARED_LOCKS_REQUIRED(s->mu) {
          return !s->pending.empty() || s->eof || s->closed;
        },
        shared_.get()));
    if (!shared_->pending.empty()) return std::exchange(shared_->pending, {});
    if (!shared_->error.empty()) {
      return absl::UnavailableError(absl::StrCat("console of ", name_, ": ", shared_->error));
    }
    return std::string();
  }

  void Close() override {
    absl::MutexLock lock(&shared_->mu);
    shared_->closed = true;
  }

 private:
  StreamHandle stream_;
  std::shared_ptr<Shared> shared_;
  std::string name_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ConsoleStream>> OpenLibvirtConsole(virConnectPtr conn,
                                                                  virDomainPtr dom,
                                                                  const std::string& name) {
  InitLibvirtOnce();
  StreamHandle stream(virStreamNew(conn, VIR_STREAM_NONBLOCK));
  if (!stream) return LastLibvirtError(absl::StrCat("new stream for console of ", name));
  if (virDomainOpenConsole(dom, nullptr, stream.get(), VIR_DOMAIN_CONSOLE_FORCE) < 0) {
    return LastLibvirtError(absl::StrCat("open console of ", name));
  }
  auto shared = std::make_shared<Shared>();
  auto* opaque = new std::shared_ptr<Shared>(shared);
  if (virStreamEventAddCallback(stream.get(),
                                VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR |
                                    VIR_STREAM_EVENT_HANGUP,
                                OnStreamEvent, opaque, FreeShared) < 0) {
    delete opaque;
    return LastLibvirtError(absl::StrCat("watch console of ", name));
  }
  return std::unique_ptr<ConsoleStream>(
      new LibvirtConsole(std::move(stream), std::move(shared), name));
}

}  // namespace labrack::worker
