// The rules of image overrides on their own: which entries are refused and how a topology's
// images are replaced.
#include "controller/core/image_overrides.h"

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

v1::Topology Level() {
  v1::Topology t;
  google::protobuf::TextFormat::ParseFromString(R"pb(
    name: "level"
    nodes { name: "server" image: "debian-server" }
    nodes { name: "switch" image: "debian-switch" }
    nodes { name: "client" image: "debian-server" }
  )pb", &t);
  return t;
}

ImageOverrides Of(std::initializer_list<std::pair<const std::string, std::string>> entries) {
  ImageOverrides map;
  for (const auto& [k, v] : entries) map[k] = v;
  return map;
}

TEST(ImageOverrides, ReplaceEveryNodeOfTheNamedImageAndNoOther) {
  absl::StatusOr<v1::Topology> t = WithImageOverrides(Level(), Of({{"debian-server", "tiny"}}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->nodes(0).image(), "tiny");
  EXPECT_EQ(t->nodes(1).image(), "debian-switch");
  EXPECT_EQ(t->nodes(2).image(), "tiny");
  EXPECT_EQ(t->name(), "level");
}

TEST(ImageOverrides, ApplyToTheTopologyAsWrittenNotToEachOther) {
  absl::StatusOr<v1::Topology> t = WithImageOverrides(
      Level(), Of({{"debian-server", "debian-switch"}, {"debian-switch", "tiny"}}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->nodes(0).image(), "debian-switch");
  EXPECT_EQ(t->nodes(1).image(), "tiny");
}

TEST(ImageOverrides, NoneLeaveTheTopologyAsItIs) {
  absl::StatusOr<v1::Topology> t = WithImageOverrides(Level(), {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->SerializeAsString(), Level().SerializeAsString());
}

TEST(ImageOverrides, AKeyNoNodeUsesIsRefusedNamingTheEntry) {
  EXPECT_THAT(WithImageOverrides(Level(), Of({{"debian-storage", "tiny"}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "image_overrides[\"debian-storage\"]: no node of topology 'level' uses "
                       "image 'debian-storage'"));
}

TEST(ImageOverrides, InvalidNamesAreRefusedNamingTheEntry) {
  EXPECT_THAT(WithImageOverrides(Level(), Of({{"", "tiny"}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("image_overrides[\"\"] key")));
  EXPECT_THAT(WithImageOverrides(Level(), Of({{"debian-server", "a/b"}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("image_overrides[\"debian-server\"] \"a/b\": must be")));
  EXPECT_THAT(WithImageOverrides(Level(), Of({{"debian-server", "x\n"}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("image_overrides[\"debian-server\"] \"x\\n\"")));
}

TEST(ImageOverrides, TheFirstBadEntryInKeyOrderIsReported) {
  ImageOverrides bad = Of({{"zz", "tiny"}, {"aa", "tiny"}, {"mm", "tiny"}});
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(WithImageOverrides(Level(), bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("image_overrides[\"aa\"]")));
  }
}

TEST(ImageOverrides, CompareAndPrintByEntries) {
  EXPECT_TRUE(SameOverrides(Of({{"a", "b"}, {"c", "d"}}), Of({{"c", "d"}, {"a", "b"}})));
  EXPECT_FALSE(SameOverrides(Of({{"a", "b"}}), Of({{"a", "c"}})));
  EXPECT_FALSE(SameOverrides(Of({{"a", "b"}}), {}));
  EXPECT_EQ(FormatOverrides(Of({{"c", "d"}, {"a", "b"}})), "{a=b, c=d}");
  EXPECT_EQ(FormatOverrides({}), "{}");
}

}  // namespace
}  // namespace labrack::controller
