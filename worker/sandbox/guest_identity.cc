#include "worker/sandbox/guest_identity.h"

#include <sys/random.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace labrack::worker {
namespace {

constexpr absl::Duration kAgentRetry = absl::Milliseconds(50);

absl::StatusOr<std::string> RandomBytes(int n) {
  std::string bytes(n, '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t got = getrandom(bytes.data() + done, bytes.size() - done, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return absl::InternalError("getrandom failed");
    done += static_cast<size_t>(got);
  }
  return bytes;
}

// Sends `command` (built when sent, so that a clock in it is fresh), retrying while the
// agent is not connected, until `deadline`.
absl::StatusOr<std::string> Send(Hypervisor* hv, const std::string& domain, const std::string& what,
                                 const std::function<std::string()>& command, absl::Time deadline) {
  for (;;) {
    absl::StatusOr<std::string> answer =
        hv->AgentCommand(domain, command(), std::max(deadline - absl::Now(), absl::Seconds(1)));
    if (answer.ok()) {
      if (!absl::StrContains(*answer, "\"return\"")) {
        return absl::InternalError(absl::StrCat(what, " in ", domain, ": the guest agent answered ",
                                                *answer));
      }
      return answer;
    }
    if (!absl::IsUnavailable(answer.status()) || absl::Now() >= deadline) {
      return absl::Status(answer.status().code(),
                          absl::StrCat(what, " in ", domain, ": ", answer.status().message()));
    }
    absl::SleepFor(kAgentRetry);
  }
}

}  // namespace

absl::Status GiveIdentity(Hypervisor* hv, const std::string& domain, const GuestIdentity& identity,
                          const std::function<absl::Time()>& now, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  RETURN_IF_ERROR(Send(hv, domain, "setting the clock", [&] {
    return absl::StrCat(R"({"execute":"guest-set-time","arguments":{"time":)",
                        absl::ToUnixNanos(now()), "}}");
  }, deadline).status());
  ASSIGN_OR_RETURN(std::string entropy, RandomBytes(kIdentityEntropyBytes));
  ASSIGN_OR_RETURN(std::string opened, Send(hv, domain, "opening /dev/urandom", [] {
    return std::string(R"({"execute":"guest-file-open","arguments":{"path":"/dev/urandom","mode":"w"}})");
  }, deadline));
  // {"return": N}: the handle.
  std::string handle;
  for (char c : opened.substr(opened.find("\"return\""))) {
    if (c >= '0' && c <= '9') handle += c;
  }
  if (handle.empty()) return absl::InternalError(absl::StrCat("no file handle in ", opened));
  RETURN_IF_ERROR(Send(hv, domain, "adding entropy", [&] {
    return absl::StrCat(R"({"execute":"guest-file-write","arguments":{"handle":)", handle,
                        R"(,"buf-b64":")", absl::Base64Escape(entropy), "\"}}");
  }, deadline).status());
  RETURN_IF_ERROR(Send(hv, domain, "closing /dev/urandom", [&] {
    return absl::StrCat(R"({"execute":"guest-file-close","arguments":{"handle":)", handle, "}}");
  }, deadline).status());
  if (identity.password_hash.empty()) return absl::OkStatus();
  return Send(hv, domain, "setting root's password", [&] {
    return absl::StrCat(R"({"execute":"guest-set-user-password","arguments":{"username":"root",)",
                        R"("password":")", absl::Base64Escape(identity.password_hash),
                        R"(","crypted":true}})");
  }, deadline).status();
}

}  // namespace labrack::worker
