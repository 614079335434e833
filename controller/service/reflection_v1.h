// gRPC server reflection v1 (grpc.reflection.v1.ServerReflection) over protobuf's generated
// descriptor pool, beside the v1alpha service that Debian's grpc++_reflection 1.51 offers:
// clients such as grpcurl and current gRPC libraries ask for v1 first. Thread-safe: every
// stream has its own reactor, and the pool is read-only.
#ifndef LABRACK_CONTROLLER_SERVICE_REFLECTION_V1_H_
#define LABRACK_CONTROLLER_SERVICE_REFLECTION_V1_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace labrack::controller {

class ReflectionV1Service : public grpc::reflection::v1::ServerReflection::CallbackService {
 public:
  // `services`: the full names of the services the server offers, as list_services answers.
  explicit ReflectionV1Service(std::vector<std::string> services)
      : services_(std::move(services)) {}

  grpc::ServerBidiReactor<grpc::reflection::v1::ServerReflectionRequest,
                          grpc::reflection::v1::ServerReflectionResponse>*
  ServerReflectionInfo(grpc::CallbackServerContext* ctx) override;

  // The answer to one request: the files asked for (each with the files it imports), or an
  // error_response with NOT_FOUND for an unknown name or INVALID_ARGUMENT for an empty request.
  grpc::reflection::v1::ServerReflectionResponse Answer(
      const grpc::reflection::v1::ServerReflectionRequest& request) const;

 private:
  const std::vector<std::string> services_;
};

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_SERVICE_REFLECTION_V1_H_
