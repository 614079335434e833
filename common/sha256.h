// Incremental SHA-256 (OpenSSL's libcrypto) for verifying image artifacts. One Sha256
// object belongs to one thread at a time.
#ifndef LABRACK_COMMON_SHA256_H_
#define LABRACK_COMMON_SHA256_H_

#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace labrack {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data);
  // Lowercase hex digest. The object may not be updated afterwards.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Hex SHA-256 of a file's bytes. NotFound when the file is missing.
absl::StatusOr<std::string> Sha256OfFile(const std::string& path);

}  // namespace labrack

#endif  // LABRACK_COMMON_SHA256_H_
