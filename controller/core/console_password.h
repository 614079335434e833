// The console password of a sandbox: random, new for every sandbox, kept by the controller
// with its SHA-512 crypt(3) hash, which the worker hands to the guests. Thread-safe.
#ifndef LABRACK_CONTROLLER_CORE_CONSOLE_PASSWORD_H_
#define LABRACK_CONTROLLER_CORE_CONSOLE_PASSWORD_H_

#include <string>

#include "absl/status/statusor.h"

namespace labrack::controller {

// 16 characters from an alphabet without look-alikes (no 0/O, 1/l/I): about 91 bits from
// the operating system's random source, so that no two sandboxes share one.
inline constexpr int kConsolePasswordLength = 16;

struct ConsolePassword {
  std::string password;
  std::string hash;  // "$6$<16 salt characters>$<86 characters>"
};

// Internal when the random source or crypt(3) fails.
absl::StatusOr<ConsolePassword> NewConsolePassword();

// Whether `password` matches `hash` (crypt(3) of the password with the hash as setting).
bool ConsolePasswordMatches(const std::string& password, const std::string& hash);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CORE_CONSOLE_PASSWORD_H_
