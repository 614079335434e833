// Tests of strict IPv4 parsing: every accepted text means exactly one address.
#include "common/topology/ipv4.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labrack {
namespace {

using ::testing::Optional;

TEST(Ipv4, ParsesDottedQuadsAndFormatsThemBack) {
  EXPECT_THAT(ParseIpv4("10.10.1.5"), Optional(0x0a0a0105u));
  EXPECT_THAT(ParseIpv4("0.0.0.0"), Optional(0u));
  EXPECT_THAT(ParseIpv4("255.255.255.255"), Optional(0xffffffffu));
  EXPECT_EQ(FormatIpv4(0x0a0a0105u), "10.10.1.5");
}

TEST(Ipv4, RefusesTextThatCouldMeanAnotherAddress) {
  for (const char* bad : {"", "10.10.1", "10.10.1.5.6", "010.10.1.5", "10.10.1.256", "1e1.0.0.1",
                          "+1.0.0.1", "-1.0.0.1", " 10.10.1.5", "10.10.1.5 ", "10..1.5"}) {
    EXPECT_EQ(ParseIpv4(bad), std::nullopt) << bad;
  }
}

TEST(Ipv4Cidr, ParsesPrefixAndKnowsItsSubnet) {
  std::optional<Ipv4Cidr> cidr = ParseIpv4Cidr("10.10.1.5/24");
  ASSERT_TRUE(cidr.has_value());
  EXPECT_EQ(cidr->prefix, 24);
  EXPECT_EQ(FormatIpv4(cidr->NetworkAddress()), "10.10.1.0");
  EXPECT_EQ(FormatIpv4(cidr->BroadcastAddress()), "10.10.1.255");
  EXPECT_TRUE(cidr->Contains(*ParseIpv4("10.10.1.200")));
  EXPECT_FALSE(cidr->Contains(*ParseIpv4("10.10.2.1")));
  EXPECT_EQ(FormatIpv4Cidr(*cidr), "10.10.1.5/24");
  EXPECT_EQ(ParseIpv4Cidr("0.0.0.0/0")->Mask(), 0u);
}

TEST(Ipv4Cidr, RefusesMissingOrOutOfRangePrefix) {
  for (const char* bad : {"10.10.1.0", "10.10.1.0/", "10.10.1.0/33", "10.10.1.0/024",
                          "10.10.1.0/2a", "/24", "10.10.1.0/24/1"}) {
    EXPECT_EQ(ParseIpv4Cidr(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace labrack
