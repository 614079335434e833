// Tests of the network XML builder (golden files) and parser.
#include "worker/xml/network_xml.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "worker/xml/golden.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::IsOk;
using ::labrack::testing::StatusIs;
using ::labrack::worker::testing::ExpectMatchesGolden;
using ::labrack::worker::testing::ReadGolden;
using ::testing::HasSubstr;
using ::testing::Not;

NetworkSpec LanSpec() {
  NetworkSpec spec;
  spec.name = "lr-0123abcd-lan";
  spec.bridge = "lr0123abcd0";
  spec.tag.host_id = "host-a";
  spec.tag.sandbox_id = "0123abcd-4567-89ab-cdef-0123456789ab";
  spec.tag.generation = 3;
  spec.tag.session_id = "exam-2024-06";
  spec.tag.candidate = "cand.042@centre";
  spec.tag.topology = "l1-basics";
  return spec;
}

void ExpectRoundTrip(const NetworkSpec& spec) {
  absl::StatusOr<NetworkInfo> info = ParseNetworkXml(BuildNetworkXml(spec));
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->name, spec.name);
  EXPECT_EQ(info->bridge, spec.bridge);
  EXPECT_EQ(info->tag, spec.tag);
  EXPECT_FALSE(info->active);
}

TEST(NetworkXml, IsolatedMatchesGolden) {
  std::string xml = BuildNetworkXml(LanSpec());
  ExpectMatchesGolden(xml, "network_isolated.xml");
  EXPECT_THAT(xml, Not(HasSubstr("<forward")));
  EXPECT_THAT(xml, Not(HasSubstr("<ip")));
  EXPECT_THAT(xml, Not(HasSubstr("<bandwidth")));
}

TEST(NetworkXml, ShapedMatchesGolden) {
  NetworkSpec spec = LanSpec();
  spec.name = "lr-0123abcd-wan";
  spec.bridge = "lr0123abcd1";
  spec.bandwidth_average_kibps = 1250;  // 10 Mbit/s
  ExpectMatchesGolden(BuildNetworkXml(spec), "network_shaped.xml");
}

TEST(NetworkXml, RoundTripsThroughParse) {
  ExpectRoundTrip(LanSpec());
  NetworkSpec hostile = LanSpec();
  hostile.name = R"(n'"<>&)";
  hostile.bridge = R"(b'"<>&)";
  hostile.tag.candidate = R"(c'"<>&)";
  EXPECT_THAT(BuildNetworkXml(hostile), HasSubstr("<name>n'\"&lt;&gt;&amp;</name>"));
  ExpectRoundTrip(hostile);
}

// Captured by hand from `virsh -c qemu:///system net-dumpxml` of network_shaped.xml defined
// under another name: libvirt adds a uuid and a bridge MAC address.
TEST(NetworkXml, ReadsLibvirtsDumpOfTheGolden) {
  absl::StatusOr<NetworkInfo> info = ParseNetworkXml(ReadGolden("libvirt_dump_network.xml"));
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->name, "lrxmltest-wan");
  EXPECT_EQ(info->bridge, "lrxmltest1");
  EXPECT_EQ(info->tag, LanSpec().tag);
}

TEST(ParseNetworkXml, LeavesTheTagEmptyOnAForeignNetwork) {
  absl::StatusOr<NetworkInfo> info = ParseNetworkXml(
      "<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/></network>");
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->name, "default");
  EXPECT_EQ(info->bridge, "virbr0");
  EXPECT_EQ(info->tag, ObjectTag());
}

TEST(ParseNetworkXml, RejectsMalformedInput) {
  EXPECT_THAT(ParseNetworkXml("<network><name>x</network>"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseNetworkXml("<domain/>"), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string bad_tag = BuildNetworkXml(LanSpec());
  bad_tag.replace(bad_tag.find("<labrack:generation>3"), 21, "<labrack:generation>x");
  EXPECT_THAT(ParseNetworkXml(bad_tag), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace labrack::worker
