// The LabAccess gRPC service: tokens (create, list, revoke) and the audit log, for admin
// tokens (operators may read the audit log). Each handler admits the call and translates
// it to AccessControl, no more. Thread-safe.
#ifndef LABRACK_CONTROLLER_SERVICE_ACCESS_SERVICE_H_
#define LABRACK_CONTROLLER_SERVICE_ACCESS_SERVICE_H_

#include "controller/access/access_control.h"
#include "labrack/v1/access.grpc.pb.h"

namespace labrack::controller {

class AccessService final : public v1::LabAccess::CallbackService {
 public:
  // `access` is not owned.
  explicit AccessService(AccessControl* access) : access_(access) {}

  grpc::ServerUnaryReactor* CreateToken(grpc::CallbackServerContext* ctx,
                                        const v1::CreateTokenRequest* req,
                                        v1::CreateTokenResponse* resp) override;
  grpc::ServerUnaryReactor* ListTokens(grpc::CallbackServerContext* ctx,
                                       const v1::ListTokensRequest* req,
                                       v1::ListTokensResponse* resp) override;
  grpc::ServerUnaryReactor* RevokeToken(grpc::CallbackServerContext* ctx,
                                        const v1::RevokeTokenRequest* req,
                                        v1::Token* resp) override;
  grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* ctx,
                                      const v1::ListAuditRequest* req,
                                      v1::ListAuditResponse* resp) override;

 private:
  AccessControl* const access_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_SERVICE_ACCESS_SERVICE_H_
