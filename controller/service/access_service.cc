#include "controller/service/access_service.h"

#include "controller/service/call_gate.h"

namespace labrack::controller {

grpc::ServerUnaryReactor* AccessService::CreateToken(grpc::CallbackServerContext* ctx,
                                                     const v1::CreateTokenRequest* req,
                                                     v1::CreateTokenResponse* resp) {
  return ServeUnary(*access_, ctx, "LabAccess/CreateToken", "", Run::kDetached,
                    [this, req, resp](const Caller& caller, std::string& target) -> absl::Status {
                      absl::StatusOr<v1::CreateTokenResponse> r = access_->CreateToken(caller, *req);
                      if (!r.ok()) return r.status();
                      *resp = *std::move(r);
                      target = resp->token().token_id();
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* AccessService::ListTokens(grpc::CallbackServerContext* ctx,
                                                    const v1::ListTokensRequest*,
                                                    v1::ListTokensResponse* resp) {
  return ServeUnary(*access_, ctx, "LabAccess/ListTokens", "", Run::kNow,
                    [this, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<std::vector<v1::Token>> tokens = access_->ListTokens();
                      if (!tokens.ok()) return tokens.status();
                      for (v1::Token& t : *tokens) *resp->add_tokens() = std::move(t);
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* AccessService::RevokeToken(grpc::CallbackServerContext* ctx,
                                                     const v1::RevokeTokenRequest* req,
                                                     v1::Token* resp) {
  return ServeUnary(*access_, ctx, "LabAccess/RevokeToken", req->token_id(), Run::kDetached,
                    [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<v1::Token> t = access_->RevokeToken(req->token_id());
                      if (t.ok()) *resp = *std::move(t);
                      return t.status();
                    });
}

grpc::ServerUnaryReactor* AccessService::ListAudit(grpc::CallbackServerContext* ctx,
                                                   const v1::ListAuditRequest* req,
                                                   v1::ListAuditResponse* resp) {
  return ServeUnary(*access_, ctx, "LabAccess/ListAudit", "", Run::kDetached,
                    [this, req, resp](const Caller&, std::string&) -> absl::Status {
                      absl::StatusOr<std::vector<v1::AuditRecord>> records =
                          access_->ListAudit(*req);
                      if (!records.ok()) return records.status();
                      for (v1::AuditRecord& r : *records) *resp->add_records() = std::move(r);
                      return absl::OkStatus();
                    });
}

}  // namespace labrack::controller
