#include "controller/core/console_password.h"

#include <crypt.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace labrack::controller {
namespace {

constexpr char kPasswordAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
constexpr char kSaltAlphabet[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr int kSaltLength = 16;

// `length` characters of `alphabet`, each uniform (rejection sampling over random bytes).
absl::StatusOr<std::string> RandomString(absl::string_view alphabet, int length) {
  const unsigned limit = 256 - 256 % alphabet.size();
  std::string out;
  while (static_cast<int>(out.size()) < length) {
    unsigned char bytes[64];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
      return absl::InternalError("the random source failed while making a console password");
    }
    for (unsigned char b : bytes) {
      if (b < limit && static_cast<int>(out.size()) < length) out.push_back(alphabet[b % alphabet.size()]);
    }
  }
  return out;
}

// crypt(3) of `password` with `setting`; empty when crypt fails.
std::string Crypt(const std::string& password, const std::string& setting) {
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* hash = crypt_r(password.c_str(), setting.c_str(), data.get());
  if (hash == nullptr || hash[0] == '*') return "";  // libxcrypt's failure tokens start with *
  return hash;
}

}  // namespace

absl::StatusOr<ConsolePassword> NewConsolePassword() {
  absl::StatusOr<std::string> password = RandomString(kPasswordAlphabet, kConsolePasswordLength);
  if (!password.ok()) return password.status();
  absl::StatusOr<std::string> salt = RandomString(kSaltAlphabet, kSaltLength);
  if (!salt.ok()) return salt.status();
  std::string hash = Crypt(*password, absl::StrCat("$6$", *salt, "$"));
  if (hash.empty()) return absl::InternalError("crypt(3) could not hash a console password");
  return ConsolePassword{*std::move(password), std::move(hash)};
}

bool ConsolePasswordMatches(const std::string& password, const std::string& hash) {
  std::string again = Crypt(password, hash);
  return !again.empty() && again == hash;
}

}  // namespace labrack::controller
