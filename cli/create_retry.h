// Creates (and pool assigns) that are safe to repeat: the request carries a request_id, so
// the controller answers a repeat with what the first attempt did. CallCreate repeats a call that met
// UNAVAILABLE or DEADLINE_EXCEEDED (the first may have landed) a few times with the same
// request, then gives up naming the request id to pass to retry by hand. Not thread-safe
// (one caller per CommandContext).
#ifndef LABRACK_CLI_CREATE_RETRY_H_
#define LABRACK_CLI_CREATE_RETRY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/command_context.h"

namespace labrack::cli {

inline constexpr int kCreateAttempts = 3;
inline constexpr absl::Duration kCreateRetryPause = absl::Milliseconds(500);

// `what` names the thing made ("sandbox", "session") in the give-up message; `verb` the
// call in the retry lines, and `duplicate` what a repeat without the request id would do;
// `timeout`, when not zero, replaces the RPC timeout of each attempt.
template <typename Request, typename Response>
absl::StatusOr<Response> CallCreate(CommandContext& ctx,
                                    grpc::Status (v1::LabController::Stub::*method)(
                                        grpc::ClientContext*, const Request&, Response*),
                                    const Request& req, const std::string& what,
                                    const std::string& verb = "create",
                                    const std::string& duplicate = "making",
                                    absl::Duration timeout = absl::ZeroDuration()) {
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<Response> created = ctx.client().Call(method, req, timeout);
    bool retry = created.status().code() == absl::StatusCode::kUnavailable ||
                 created.status().code() == absl::StatusCode::kDeadlineExceeded;
    if (created.ok() || !retry) return created;
    if (attempt == kCreateAttempts) {
      return absl::Status(created.status().code(),
                          absl::StrCat(created.status().message(), " (to retry without ", duplicate,
                                       " a second ", what, ", pass --request-id ",
                                       req.request_id(), ")"));
    }
    ctx.io().err << verb << " failed (" << created.status().message()
                 << "); retrying with the same request id\n";
    absl::SleepFor(kCreateRetryPause * attempt);
  }
}

}  // namespace labrack::cli

#endif  // LABRACK_CLI_CREATE_RETRY_H_
