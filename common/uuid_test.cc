#include "common/uuid.h"

#include "common/names.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack {
namespace {

TEST(Uuid4, IsAFreshVersion4UuidAndAValidSandboxId) {
  std::string a = NewUuid4();
  EXPECT_THAT(a, ::testing::MatchesRegex(
                     "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_NE(a, NewUuid4());
  EXPECT_OK(ValidateSandboxId("sandbox_id", a));
}

}  // namespace
}  // namespace labrack
