// Random identifiers: sandbox ids, request ids. Thread-safe.
#ifndef LABRACK_COMMON_UUID_H_
#define LABRACK_COMMON_UUID_H_

#include <string>

namespace labrack {

// A random version-4 UUID in lowercase hex ("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"), from
// the operating system's random source: a valid sandbox id and request id.
std::string NewUuid4();

}  // namespace labrack

#endif  // LABRACK_COMMON_UUID_H_
