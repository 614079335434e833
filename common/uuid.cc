#include "common/uuid.h"

#include <cstdint>
#include <random>

#include "absl/strings/str_format.h"

namespace labrack {

std::string NewUuid4() {
  std::random_device rd;
  uint32_t w[4] = {rd(), rd(), rd(), rd()};
  w[1] = (w[1] & 0xffff0fffu) | 0x00004000u;  // version 4
  w[2] = (w[2] & 0x3fffffffu) | 0x80000000u;  // RFC 4122 variant
  return absl::StrFormat("%08x-%04x-%04x-%04x-%04x%08x", w[0], w[1] >> 16, w[1] & 0xffff,
                         w[2] >> 16, w[2] & 0xffff, w[3]);
}

}  // namespace labrack
