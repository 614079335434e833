// Channels that send a bearer token with every call ("authorization: Bearer <token>"), by
// a client interceptor, so that it reaches the server over plain text on loopback as well
// as over TLS (gRPC's call credentials refuse plain-text channels). Thread-safe.
#ifndef LABRACK_COMMON_BEARER_CHANNEL_H_
#define LABRACK_COMMON_BEARER_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace labrack {

// A channel to `target` with `credentials` and `args`; every call carries `token` when it
// is not empty.
std::shared_ptr<grpc::Channel> CreateBearerChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const std::string& token, const grpc::ChannelArguments& args = grpc::ChannelArguments());

}  // namespace labrack

#endif  // LABRACK_COMMON_BEARER_CHANNEL_H_
