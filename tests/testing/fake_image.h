// Writes a small image folder (kernel, initrd and a qcow2 disk header) with its manifest,
// for tests of the image cache and worker logic that need no bootable guest.
#ifndef LABRACK_TESTS_TESTING_FAKE_IMAGE_H_
#define LABRACK_TESTS_TESTING_FAKE_IMAGE_H_

#include <string>

#include "labrack/v1/types.pb.h"

namespace labrack::testing {

// Files go into `dir` (created). The disk claims `virtual_bytes` of virtual size.
v1::ImageManifest WriteFakeImage(const std::string& dir, const std::string& name,
                                 uint64_t virtual_bytes = 64ull << 20);

// A fresh empty folder under the test's temp dir; removed by the caller.
std::string MakeTempDir(const std::string& prefix);

}  // namespace labrack::testing

#endif  // LABRACK_TESTS_TESTING_FAKE_IMAGE_H_
