// Token secrets: "<token_id>.<secret>", the id 16 hex digits (public: it names the token in
// lists and the audit log) and the secret 64 hex digits from OpenSSL's random source. The
// store keeps the sha256 of the whole string, never the string.
#ifndef LABRACK_CONTROLLER_ACCESS_TOKEN_SECRET_H_
#define LABRACK_CONTROLLER_ACCESS_TOKEN_SECRET_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace labrack::controller {

struct TokenSecret {
  std::string token_id;
  // What the holder sends: "<token_id>.<64 hex digits>".
  std::string text;
};

// Internal when the random source fails.
absl::StatusOr<TokenSecret> NewTokenSecret();
// The token id of a well-formed secret; Unauthenticated otherwise (never echoing it).
absl::StatusOr<std::string> TokenIdOf(absl::string_view text);
// Lowercase hex sha256 of `text`.
std::string SecretSha256(absl::string_view text);
// Equality in time independent of where the strings differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_ACCESS_TOKEN_SECRET_H_
