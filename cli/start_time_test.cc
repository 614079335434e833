// --start of `session create`: the three accepted forms and the error for the rest.
#include "cli/start_time.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labrack::cli {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

TEST(StartTime, NowLeavesTheStartUnset) {
  absl::StatusOr<std::optional<absl::Time>> t = ParseStartTime("now", kNow);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->has_value());
  t = ParseStartTime("NOW", kNow);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->has_value());
}

TEST(StartTime, Rfc3339WithAnOffsetOrZ) {
  absl::StatusOr<std::optional<absl::Time>> t = ParseStartTime("2026-12-01T09:00:00+08:00", kNow);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(absl::ToUnixSeconds(**t), 1796086800);  // 2026-12-01T01:00:00Z
  t = ParseStartTime("2026-12-01T01:00:00Z", kNow);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(absl::ToUnixSeconds(**t), 1796086800);
}

TEST(StartTime, PlusADurationCountsFromNow) {
  absl::StatusOr<std::optional<absl::Time>> t = ParseStartTime("+15m", kNow);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(**t, kNow + absl::Minutes(15));
  t = ParseStartTime("+1h30m", kNow);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(**t, kNow + absl::Minutes(90));
}

TEST(StartTime, AnythingElseNamesTheFlagAndTheForms) {
  for (const char* bad :
       {"tomorrow", "", "+", "+-5m", "2026-12-01T09:00:00", "2026-12-01", "15m"}) {
    absl::StatusOr<std::optional<absl::Time>> t = ParseStartTime(bad, kNow);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(t.status().message(), HasSubstr("--start"));
    EXPECT_THAT(t.status().message(), HasSubstr("RFC 3339"));
    EXPECT_THAT(t.status().message(), HasSubstr("+15m"));
  }
}

}  // namespace
}  // namespace labrack::cli
