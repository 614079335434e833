// LabController handlers for sessions: create, get, list, end, and the WatchSession stream.
// The stream has one thread of its own per call, which reads the session twice a second
// and sends it when it changed, until it is ENDED or the client goes away.
#include "common/grpc_util.h"
#include "controller/service/blocking_write_reactor.h"
#include "common/status_macros.h"
#include "controller/access/quota.h"
#include "controller/service/call_gate.h"
#include "controller/service/controller_service.h"
#include "controller/store/tables.h"

namespace labrack::controller {
namespace {

constexpr absl::Duration kWatchPoll = absl::Milliseconds(500);

class WatchSessionReactor : public BlockingWriteReactor<v1::Session> {
 public:
  WatchSessionReactor(SessionApi* sessions, std::string session)
      : sessions_(sessions), session_(std::move(session)) {
    Start();
  }

 private:
  absl::Status Stream() override {
    std::string last;
    for (;;) {
      absl::StatusOr<v1::Session> now = sessions_->Get(session_);
      if (!now.ok()) return now.status();
      std::string bytes = SerializeDeterministic(*now);
      if (bytes != last) {
        if (!Write(*now)) return absl::CancelledError("the client went away");
        last = std::move(bytes);
      }
      if (now->phase() == v1::SESSION_PHASE_ENDED) return absl::OkStatus();
      if (WaitForCancel(kWatchPoll)) return absl::CancelledError("the client went away");
    }
  }

  SessionApi* const sessions_;
  const std::string session_;
};

}  // namespace

grpc::ServerUnaryReactor* ControllerService::CreateSession(grpc::CallbackServerContext* ctx,
                                                           const v1::CreateSessionRequest* req,
                                                           v1::Session* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/CreateSession", req->name(),
                    Run::kDetached, [this, req, resp](const Caller& caller, std::string& target) -> absl::Status {
                      RETURN_IF_ERROR(CheckTrainerQuota(*parts_.store, caller,
                                                        req->candidates_size(),
                                                        parts_.trainer_max_sandboxes));
                      absl::StatusOr<v1::Session> s = parts_.sessions->Create(*req, caller.name);
                      if (!s.ok()) return s.status();
                      *resp = *std::move(s);
                      target = resp->session_id();
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* ControllerService::GetSession(grpc::CallbackServerContext* ctx,
                                                        const v1::GetSessionRequest* req,
                                                        v1::Session* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/GetSession", req->session(),
                    Run::kDetached, [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<v1::Session> s = parts_.sessions->Get(req->session());
                      if (s.ok()) *resp = *std::move(s);
                      return s.status();
                    });
}

grpc::ServerUnaryReactor* ControllerService::ListSessions(grpc::CallbackServerContext* ctx,
                                                          const v1::ListSessionsRequest* req,
                                                          v1::ListSessionsResponse* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/ListSessions", "", Run::kDetached,
                    [this, req, resp](const Caller& caller, std::string&) -> absl::Status {
                      absl::StatusOr<std::vector<v1::Session>> list = parts_.sessions->List(*req);
                      if (!list.ok()) return list.status();
                      for (v1::Session& s : *list) {
                        if (AccessControl::Sees(caller, s.owner())) *resp->add_sessions() = std::move(s);
                      }
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* ControllerService::EndSession(grpc::CallbackServerContext* ctx,
                                                        const v1::EndSessionRequest* req,
                                                        v1::Session* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/EndSession", req->session(),
                    Run::kDetached, [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<v1::Session> s = parts_.sessions->End(req->session());
                      if (s.ok()) *resp = *std::move(s);
                      return s.status();
                    });
}

grpc::ServerWriteReactor<v1::Session>* ControllerService::WatchSession(
    grpc::CallbackServerContext* ctx, const v1::GetSessionRequest* req) {
  absl::StatusOr<Caller> caller =
      AdmitCall(*parts_.access, *ctx, "LabController/WatchSession", req->session());
  if (!caller.ok()) return new RefusedWriter<v1::Session>(caller.status());
  return new WatchSessionReactor(parts_.sessions, req->session());
}

}  // namespace labrack::controller
