#include "controller/access/token_secret.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace labrack::controller {
namespace {

constexpr size_t kIdBytes = 8;
constexpr size_t kSecretBytes = 32;

absl::StatusOr<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return absl::InternalError("the random source failed while making a token");
  }
  return absl::BytesToHexString(raw);
}

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(c) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<TokenSecret> NewTokenSecret() {
  absl::StatusOr<std::string> id = RandomHex(kIdBytes);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::string> secret = RandomHex(kSecretBytes);
  if (!secret.ok()) return secret.status();
  return TokenSecret{*id, absl::StrCat(*id, ".", *secret)};
}

absl::StatusOr<std::string> TokenIdOf(absl::string_view text) {
  const size_t dot = text.find('.');
  if (text.size() != 2 * (kIdBytes + kSecretBytes) + 1 || dot != 2 * kIdBytes ||
      !IsLowerHex(text.substr(0, dot)) || !IsLowerHex(text.substr(dot + 1))) {
    return absl::UnauthenticatedError(
        "token: malformed; a token is 16 hex digits, '.', then 64 hex digits");
  }
  return std::string(text.substr(0, dot));
}

std::string SecretSha256(absl::string_view text) {
  Sha256 hash;
  hash.Update(text);
  return hash.HexDigest();
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace labrack::controller
