#include "common/sha256.h"

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack {
namespace {

TEST(Sha256, MatchesKnownVectors) {
  Sha256 empty;
  EXPECT_EQ(empty.HexDigest(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.Update("a");
  abc.Update("bc");
  EXPECT_EQ(abc.HexDigest(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, HashesFiles) {
  std::string path = ::testing::TempDir() + "/sha256_test_file";
  { std::ofstream(path) << "abc"; }
  auto digest = Sha256OfFile(path);
  std::remove(path.c_str());
  ASSERT_OK(digest);
  EXPECT_EQ(*digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_THAT(Sha256OfFile(path), testing::StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace labrack
