#include "controller/service/call_gate.h"

#include <utility>

namespace labrack::controller {

std::optional<absl::string_view> AuthorizationOf(const grpc::CallbackServerContext& ctx) {
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

absl::StatusOr<Caller> AdmitCall(AccessControl& access, const grpc::CallbackServerContext& ctx,
                                 absl::string_view method, const std::string& target) {
  return access.Admit(AuthorizationOf(ctx), method, target, ctx.peer());
}

grpc::ServerUnaryReactor* ServeUnary(AccessControl& access, grpc::CallbackServerContext* ctx,
                                     absl::string_view method, std::string target, Run run,
                                     UnaryWork work) {
  absl::StatusOr<Caller> caller = AdmitCall(access, *ctx, method, target);
  if (!caller.ok()) return FinishNow(ctx, caller.status());
  auto serve = [&access, method = std::string(method), target = std::move(target),
                caller = *std::move(caller), work = std::move(work)]() mutable -> absl::Status {
    access.RecordStart(caller, method, target);
    absl::Status status = work(caller, target);
    access.Record(caller, method, target, status);
    return status;
  };
  if (run == Run::kNow) return FinishNow(ctx, serve());
  return RunDetached(ctx, std::move(serve));
}

}  // namespace labrack::controller
