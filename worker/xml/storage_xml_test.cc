// Tests of the storage pool and volume XML builders (golden files) and the pool parser.
#include "worker/xml/storage_xml.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "worker/xml/golden.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::StatusIs;
using ::labrack::worker::testing::ExpectMatchesGolden;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(StorageXml, PoolMatchesGolden) {
  ExpectMatchesGolden(BuildPoolXml("labrack", "/var/lib/labrack/pool"), "pool.xml");
}

TEST(StorageXml, BlankVolumeMatchesGolden) {
  VolumeSpec spec;
  spec.pool = "labrack";
  spec.name = "lr-0123abcd-server1-data0.qcow2";
  spec.capacity_bytes = uint64_t{8} << 30;
  std::string xml = BuildVolumeXml(spec);
  ExpectMatchesGolden(xml, "volume_blank.xml");
  EXPECT_THAT(xml, Not(HasSubstr("backingStore")));
}

TEST(StorageXml, OverlayVolumeMatchesGolden) {
  VolumeSpec spec;
  spec.pool = "labrack";
  spec.name = "lr-0123abcd-server1-root.qcow2";
  spec.backing_path = "/var/lib/labrack/images/aa11/disk.raw";
  spec.backing_format = DiskFormat::kRaw;
  ExpectMatchesGolden(BuildVolumeXml(spec), "volume_overlay.xml");
}

TEST(StorageXml, OverlayTakesTheBackingSizeUnlessGrown) {
  VolumeSpec spec;
  spec.name = "o.qcow2";
  spec.backing_path = "/images/base.qcow2";
  EXPECT_THAT(BuildVolumeXml(spec), Not(HasSubstr("<capacity")));
  spec.capacity_bytes = 4096;
  EXPECT_THAT(BuildVolumeXml(spec), HasSubstr("<capacity unit='bytes'>4096</capacity>"));
}

TEST(StorageXml, VolumeEscapesHostileValues) {
  VolumeSpec spec;
  spec.name = R"(v'"<>&)";
  spec.capacity_bytes = 1;
  spec.backing_path = R"(/b'"<>&)";
  std::string xml = BuildVolumeXml(spec);
  EXPECT_THAT(xml, HasSubstr("<name>v'\"&lt;&gt;&amp;</name>"));
  EXPECT_THAT(xml, HasSubstr("<path>/b'\"&lt;&gt;&amp;</path>"));
}

TEST(ParsePoolTargetPath, ReadsBackTheFolder) {
  EXPECT_THAT(ParsePoolTargetPath(BuildPoolXml("p", "/srv/pool")), IsOkAndHolds("/srv/pool"));
  EXPECT_THAT(ParsePoolTargetPath(BuildPoolXml("p", R"(/srv/'"<>&)")),
              IsOkAndHolds(R"(/srv/'"<>&)"));
}

TEST(ParsePoolTargetPath, ReadsALibvirtDump) {
  constexpr char kDump[] = R"(<pool type='dir'>
  <name>labrack</name>
  <uuid>8d2f1c0e-3b7a-4d5e-9f60-1a2b3c4d5e6f</uuid>
  <capacity unit='bytes'>270553174016</capacity>
  <allocation unit='bytes'>17236750336</allocation>
  <available unit='bytes'>253316423680</available>
  <source>
  </source>
  <target>
    <path>/var/lib/labrack/pool</path>
    <permissions>
      <mode>0755</mode>
      <owner>0</owner>
      <group>0</group>
    </permissions>
  </target>
</pool>
)";
  EXPECT_THAT(ParsePoolTargetPath(kDump), IsOkAndHolds("/var/lib/labrack/pool"));
}

TEST(ParsePoolTargetPath, RejectsPoolsWithoutAPath) {
  EXPECT_THAT(ParsePoolTargetPath("<pool type='dir'><name>p</name></pool>"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParsePoolTargetPath("<pool"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParsePoolTargetPath("<volume/>"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace labrack::worker
