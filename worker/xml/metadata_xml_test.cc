// Tests of the labrack metadata tag: what it looks like, and that it is found again in XML
// shaped like libvirt's dumps whatever prefix libvirt chose.
#include "worker/xml/metadata_xml.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pugixml.hpp"
#include "tests/testing/status_matchers.h"
#include "worker/xml/golden.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

ObjectTag SampleTag() {
  ObjectTag tag;
  tag.host_id = "host-a";
  tag.sandbox_id = "0123abcd-4567-89ab-cdef-0123456789ab";
  tag.generation = 7;
  tag.node = "server1";
  tag.session_id = "exam-2024-06";
  tag.candidate = "cand.042@centre";
  tag.topology = "l1-basics";
  tag.spec_json = R"({"name":"a \"quoted\" <b> & 'c'"})";
  return tag;
}

// A domain as `virsh dumpxml` prints it, with another application's metadata first and the
// labrack tag under a prefix libvirt chose.
constexpr char kDumpedDomain[] = R"(<domain type='qemu' id='3'>
  <name>lr-0123abcd-server1</name>
  <uuid>5c1e64a0-2d0b-4f4e-9d6f-8a1b2c3d4e5f</uuid>
  <metadata>
    <other:sandbox xmlns:other="http://example.com/not-labrack">
      <other:id>decoy</other:id>
    </other:sandbox>
    <lr:sandbox xmlns:lr="http://labrack.dev/xmlns/sandbox/1">
      <lr:host>host-a</lr:host>
      <lr:id>0123abcd-4567-89ab-cdef-0123456789ab</lr:id>
      <lr:generation>12</lr:generation>
      <lr:node>server1</lr:node>
      <lr:spec>{&quot;a&quot;:&quot;&lt;&amp;&gt;&quot;}</lr:spec>
      <lr:added-by-a-newer-worker>ignored</lr:added-by-a-newer-worker>
    </lr:sandbox>
  </metadata>
  <memory unit='KiB'>131072</memory>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
  </devices>
</domain>
)";

TEST(TagXml, MatchesGolden) {
  ::labrack::worker::testing::ExpectMatchesGolden(BuildTagXml(SampleTag()), "tag.xml");
}

TEST(TagXml, RoundTripsEveryFieldThroughAnObject) {
  pugi::xml_document doc;
  pugi::xml_node network = doc.append_child("network");
  AppendTag(network.append_child("metadata"), SampleTag());
  EXPECT_THAT(FindTag(network), IsOkAndHolds(SampleTag()));
}

TEST(TagXml, ForSetMetadataLeavesTheNamespaceToLibvirt) {
  std::string xml = BuildTagXmlForSetMetadata(SampleTag());
  EXPECT_THAT(xml, HasSubstr("<sandbox>"));
  EXPECT_THAT(xml, HasSubstr("<generation>"));
  EXPECT_THAT(xml, ::testing::Not(HasSubstr("labrack")));
  EXPECT_THAT(xml, ::testing::Not(HasSubstr("xmlns")));
}

TEST(TagXml, LeavesOutEmptyOptionalFields) {
  ObjectTag tag;
  tag.host_id = "host-a";
  tag.sandbox_id = "0123abcd";
  std::string xml = BuildTagXml(tag);
  EXPECT_THAT(xml, HasSubstr("<labrack:generation>0</labrack:generation>"));
  EXPECT_THAT(xml, ::testing::Not(HasSubstr("labrack:node")));
  EXPECT_THAT(ParseTag(absl::StrCat("<network><metadata>", xml, "</metadata></network>")),
              IsOkAndHolds(tag));
}

TEST(ParseTag, FindsTheTagInALibvirtDumpWhateverItsPrefix) {
  absl::StatusOr<ObjectTag> tag = ParseTag(kDumpedDomain);
  ASSERT_THAT(tag, labrack::testing::IsOk());
  EXPECT_EQ(tag->host_id, "host-a");
  EXPECT_EQ(tag->sandbox_id, "0123abcd-4567-89ab-cdef-0123456789ab");
  EXPECT_EQ(tag->generation, 12u);
  EXPECT_EQ(tag->node, "server1");
  EXPECT_EQ(tag->spec_json, R"({"a":"<&>"})");
  EXPECT_EQ(tag->session_id, "");
}

TEST(ParseTag, AcceptsTheNamespaceAsDefault) {
  constexpr char kXml[] = R"(<network><name>n</name><metadata>
      <sandbox xmlns="http://labrack.dev/xmlns/sandbox/1"><host>h</host><id>0123abcd</id>
      <generation>3</generation></sandbox></metadata></network>)";
  absl::StatusOr<ObjectTag> tag = ParseTag(kXml);
  ASSERT_THAT(tag, labrack::testing::IsOk());
  EXPECT_EQ(tag->host_id, "h");
  EXPECT_EQ(tag->generation, 3u);
}

TEST(ParseTag, IsNotFoundWithoutALabrackTag) {
  EXPECT_THAT(ParseTag("<domain type='qemu'><name>x</name></domain>"),
              StatusIs(absl::StatusCode::kNotFound));
  constexpr char kOtherNamespace[] = R"(<domain><metadata>
      <labrack:sandbox xmlns:labrack="http://example.com/other"><labrack:generation>1
      </labrack:generation></labrack:sandbox></metadata></domain>)";
  EXPECT_THAT(ParseTag(kOtherNamespace), StatusIs(absl::StatusCode::kNotFound));
  constexpr char kUnboundPrefix[] = R"(<domain><metadata>
      <labrack:sandbox><labrack:generation>1</labrack:generation></labrack:sandbox>
      </metadata></domain>)";
  EXPECT_THAT(ParseTag(kUnboundPrefix), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ParseTag, RejectsMalformedXmlAndGenerations) {
  EXPECT_THAT(ParseTag("<domain><metadata>"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTag(""), StatusIs(absl::StatusCode::kInvalidArgument));
  for (const char* generation : {"-1", "x", "", "18446744073709551616", "+3"}) {
    std::string xml =
        absl::StrCat("<domain><metadata><s:sandbox xmlns:s='", kTagNamespaceUri, "'><s:generation>",
                     generation, "</s:generation></s:sandbox></metadata></domain>");
    EXPECT_THAT(ParseTag(xml),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("generation")))
        << generation;
  }
  std::string no_generation = absl::StrCat("<domain><metadata><s:sandbox xmlns:s='",
                                           kTagNamespaceUri, "'/></metadata></domain>");
  EXPECT_THAT(ParseTag(no_generation), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParseTag, KeepsHostileValuesIntact) {
  ObjectTag tag = SampleTag();
  tag.node = R"(a'"<>&b)";
  tag.candidate = "]]><!-- -->";
  tag.spec_json = "  leading and trailing spaces  ";
  std::string xml = BuildTagXml(tag);
  EXPECT_THAT(xml, HasSubstr("a'\"&lt;&gt;&amp;b"));
  EXPECT_THAT(ParseTag(absl::StrCat("<domain><metadata>", xml, "</metadata></domain>")),
              IsOkAndHolds(tag));
}

}  // namespace
}  // namespace labrack::worker
