// Tests of image manifests: reading what images/build.sh writes, writing it back, and the
// refusals a worker relies on before it imports or boots an image.
#include "common/topology/manifest_yaml.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// As images/build.sh writes it; line numbers below refer to this text.
constexpr char kTiny[] = R"(name: tiny
version: "6.1.0-27-1a2b3c4d"
boot_mode: direct-kernel
cmdline: "console=ttyS0 no_timer_check quiet"
readiness:
  serial_marker: "LABRACK-READY"
default_vcpus: 1
default_memory_mib: 128
roles: [server, switch, storage, router, firewall, workstation]
artifacts:
  - kind: kernel
    file: vmlinuz
    sha256: 51349501a3d1ff83836437d2b365fd2d57f2feb8642d315e5181dec23d4c3275
    size_bytes: 14186432
  - kind: initrd
    file: initrd.img
    sha256: b6c607899a3f1ed89ec472d36625a322c05037ad89a2360e66345d37c4420553
    size_bytes: 1164553
  - kind: disk
    file: disk.qcow2
    format: qcow2
    sha256: b77fd7d611038ebf21debaad10090364df758aec1dfa8f3d0357e6bfc292a0f4
    size_bytes: 4063232
)";

// kTiny with the given lines (1-based) replaced; a replacement may hold several lines or none.
std::string TinyWith(const std::vector<std::pair<int, std::string>>& replacements) {
  std::vector<std::string> lines = absl::StrSplit(kTiny, '\n');
  for (const auto& [line, text] : replacements) lines[line - 1] = text;
  return absl::StrJoin(lines, "\n");
}

TEST(ImageManifestYaml, ReadsTheManifestBuildShWrites) {
  absl::StatusOr<v1::ImageManifest> m = ParseImageManifestYaml(kTiny, "manifest.yaml");
  ASSERT_OK(m);
  EXPECT_EQ(m->name(), "tiny");
  EXPECT_EQ(m->version(), "6.1.0-27-1a2b3c4d");
  EXPECT_EQ(m->boot_mode(), v1::BOOT_MODE_DIRECT_KERNEL);
  EXPECT_EQ(m->cmdline(), "console=ttyS0 no_timer_check quiet");
  EXPECT_EQ(m->readiness().serial_marker(), "LABRACK-READY");
  EXPECT_EQ(m->default_vcpus(), 1u);
  EXPECT_EQ(m->default_memory_mib(), 128u);
  EXPECT_EQ(m->roles_size(), 6);
  ASSERT_EQ(m->artifacts_size(), 3);
  EXPECT_EQ(m->artifacts(0).kind(), v1::ARTIFACT_KIND_KERNEL);
  EXPECT_EQ(m->artifacts(1).kind(), v1::ARTIFACT_KIND_INITRD);
  const v1::ImageArtifact& disk = m->artifacts(2);
  EXPECT_EQ(disk.kind(), v1::ARTIFACT_KIND_DISK);
  EXPECT_EQ(disk.file(), "disk.qcow2");
  EXPECT_EQ(disk.format(), "qcow2");
  EXPECT_EQ(disk.sha256(), "b77fd7d611038ebf21debaad10090364df758aec1dfa8f3d0357e6bfc292a0f4");
  EXPECT_EQ(disk.size_bytes(), 4063232u);
  EXPECT_EQ(m->guest_agent(), "");
}

TEST(ImageManifestYaml, ReadsAndWritesTheGuestAgent) {
  absl::StatusOr<v1::ImageManifest> m =
      ParseImageManifestYaml(TinyWith({{9, "roles: [server]\nguest_agent: qemu-ga"}}), "m.yaml");
  ASSERT_OK(m);
  EXPECT_EQ(m->guest_agent(), "qemu-ga");
  absl::StatusOr<v1::ImageManifest> again = ParseImageManifestYaml(ImageManifestToYaml(*m), "m2");
  ASSERT_OK(again);
  EXPECT_EQ(again->guest_agent(), "qemu-ga");
}

void ExpectRoundTrip(const v1::ImageManifest& manifest) {
  std::string yaml = ImageManifestToYaml(manifest);
  absl::StatusOr<v1::ImageManifest> again = ParseImageManifestYaml(yaml, "emitted.yaml");
  ASSERT_OK(again) << yaml;
  EXPECT_TRUE(MessageDifferencer::Equals(manifest, *again)) << yaml;
}

TEST(ImageManifestYaml, WritesWhatItReads) {
  absl::StatusOr<v1::ImageManifest> tiny = ParseImageManifestYaml(kTiny, "manifest.yaml");
  ASSERT_OK(tiny);
  ExpectRoundTrip(*tiny);
}

TEST(ImageManifestYaml, WritesADiskBootManifestWithoutOptionalFields) {
  v1::ImageManifest manifest;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "debian-12"
        version: "12.5+1"
        boot_mode: BOOT_MODE_DISK
        readiness { serial_marker: "login: \"ok\"" }
        artifacts {
          kind: ARTIFACT_KIND_DISK
          file: "null"
          format: "raw"
          size_bytes: 0
          sha256: "0000000000000000000000000000000000000000000000000000000000000000"
        }
      )pb",
      &manifest));
  ASSERT_OK(ValidateImageManifest(manifest));
  ExpectRoundTrip(manifest);
}

struct Refusal {
  const char* what;
  std::string yaml;
  std::string message_start;  // "manifest.yaml:<line>: <field>..."
  std::string rule;
};

void PrintTo(const Refusal& refusal, std::ostream* os) { *os << refusal.what; }

class ImageManifestYamlRefuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(ImageManifestYamlRefuses, NamingLineFieldAndRule) {
  const Refusal& r = GetParam();
  EXPECT_THAT(ParseImageManifestYaml(r.yaml, "manifest.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith(r.message_start), HasSubstr(r.rule))));
}

constexpr char kShaRule[] = "must be 64 lowercase hex digits";

INSTANTIATE_TEST_SUITE_P(
    BadInput, ImageManifestYamlRefuses,
    ::testing::Values(
        Refusal{
            "UppercaseSha",
            TinyWith(
                {{22,
                  "    sha256: B77FD7D611038EBF21DEBAAD10090364DF758AEC1DFA8F3D0357E6BFC292A0F4"}}),
            "manifest.yaml:22: artifacts[2].sha256 \"B77FD7", kShaRule},
        Refusal{"ShortSha", TinyWith({{13, "    sha256: 5134"}}),
                "manifest.yaml:13: artifacts[0].sha256 \"5134\": ", kShaRule},
        Refusal{"MissingDisk", TinyWith({{19, ""}, {20, ""}, {21, ""}, {22, ""}, {23, ""}}),
                "manifest.yaml:10: artifacts: ", "exactly one disk artifact, got 0"},
        Refusal{"PathInFileName", TinyWith({{12, "    file: ../vmlinuz"}}),
                "manifest.yaml:12: artifacts[0].file \"../vmlinuz\": ", "plain file name"},
        Refusal{"AbsoluteFileName", TinyWith({{20, "    file: /etc/shadow"}}),
                "manifest.yaml:20: artifacts[2].file \"/etc/shadow\": ", "plain file name"},
        Refusal{"DuplicateFile", TinyWith({{16, "    file: vmlinuz"}}),
                "manifest.yaml:16: artifacts[1].file: ",
                "duplicate file \"vmlinuz\" (also artifacts[0])"},
        Refusal{
            "DiskWithoutFormat", TinyWith({{21, ""}}),
            "manifest.yaml:19: artifacts[2].format \"\": ", "must be given and be qcow2 or raw"},
        Refusal{"DiskWithOtherFormat", TinyWith({{21, "    format: vmdk"}}),
                "manifest.yaml:21: artifacts[2].format \"vmdk\": ", "qcow2 or raw"},
        Refusal{"DirectKernelWithoutKernel", TinyWith({{11, "  - kind: initrd"}}),
                "manifest.yaml:10: artifacts: ",
                "exactly one kernel and at most one initrd, got 0 and 2"},
        Refusal{"DiskBootWithKernel", TinyWith({{3, "boot_mode: disk"}}),
                "manifest.yaml:10: artifacts: ", "boot_mode disk takes no kernel or initrd"},
        Refusal{"UnknownBootMode", TinyWith({{3, "boot_mode: pxe"}}),
                "manifest.yaml:3: boot_mode: ",
                "unknown value \"pxe\" (must be one of: direct-kernel, disk)"},
        Refusal{"UnknownKind", TinyWith({{15, "  - kind: firmware"}}),
                "manifest.yaml:15: artifacts[1].kind: ", "unknown value \"firmware\""},
        Refusal{"UnknownGuestAgent",
                TinyWith({{9, "roles: [server]\nguest_agent: spice"}}),
                "manifest.yaml:10: guest_agent: ", "must be qemu-ga or absent"},
        Refusal{"UnknownRole", TinyWith({{9, "roles: [server, toaster]"}}),
                "manifest.yaml:9: roles[1]: ", "unknown value \"toaster\""},
        Refusal{"BadVersion", TinyWith({{2, "version: \"6.1 final\""}}),
                "manifest.yaml:2: version \"6.1 final\": ", "A-Z, a-z, 0-9"},
        Refusal{"EmptyMarker", TinyWith({{6, "  serial_marker: \"\""}}),
                "manifest.yaml:6: readiness.serial_marker \"\": ", "1 to 64 printable ASCII"},
        Refusal{"MisspelledKey", TinyWith({{8, "default_memroy_mib: 128"}}),
                "manifest.yaml:8: default_memroy_mib: ", "unknown key (allowed: name, version"},
        Refusal{"MissingReadiness", TinyWith({{5, ""}, {6, ""}}),
                "manifest.yaml:1: ", "missing required key \"readiness\""},
        Refusal{"NegativeSize", TinyWith({{14, "    size_bytes: -1"}}),
                "manifest.yaml:14: artifacts[0].size_bytes: ", "whole number"},
        Refusal{"ImageNameWithPath", TinyWith({{1, "name: ../tiny"}}),
                "manifest.yaml:1: name \"../tiny\": ", "never a path"}),
    [](const ::testing::TestParamInfo<Refusal>& info) { return std::string(info.param.what); });

TEST(ValidateImageManifest, RefusesProtosFromPeersWithTheSameRules) {
  absl::StatusOr<v1::ImageManifest> tiny = ParseImageManifestYaml(kTiny, "manifest.yaml");
  ASSERT_OK(tiny);
  v1::ImageManifest bad = *tiny;
  bad.mutable_artifacts(2)->set_sha256("not-a-sha");
  EXPECT_THAT(ValidateImageManifest(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("artifacts[2].sha256"), HasSubstr(kShaRule))));
  bad = *tiny;
  bad.clear_boot_mode();
  EXPECT_THAT(ValidateImageManifest(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("boot_mode: ")));
  bad = *tiny;
  bad.mutable_readiness()->set_serial_marker("READY\n");
  EXPECT_THAT(ValidateImageManifest(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("readiness.serial_marker")));
}

// A captured image: its disk is a qcow2 overlay on tiny's disk, which comes along as a
// backing disk named by its sha256.
constexpr char kBackingDisk[] = R"(  - kind: backing-disk
    file: c0ffee11c0ffee11c0ffee11c0ffee11c0ffee11c0ffee11c0ffee11c0ffee11
    format: qcow2
    sha256: c0ffee11c0ffee11c0ffee11c0ffee11c0ffee11c0ffee11c0ffee11c0ffee11
    size_bytes: 4063232
)";

TEST(ImageManifestYaml, ReadsALayeredImageWithItsBackingDisk) {
  absl::StatusOr<v1::ImageManifest> m =
      ParseImageManifestYaml(absl::StrCat(kTiny, kBackingDisk), "manifest.yaml");
  ASSERT_OK(m);
  ASSERT_EQ(m->artifacts_size(), 4);
  EXPECT_EQ(m->artifacts(3).kind(), v1::ARTIFACT_KIND_BACKING_DISK);
  EXPECT_EQ(m->artifacts(3).format(), "qcow2");
  EXPECT_THAT(ImageManifestToYaml(*m), HasSubstr("  - kind: backing-disk\n"));
  ExpectRoundTrip(*m);
}

TEST(ValidateImageManifest, RefusesABackingChainThatCannotBe) {
  absl::StatusOr<v1::ImageManifest> layered =
      ParseImageManifestYaml(absl::StrCat(kTiny, kBackingDisk), "manifest.yaml");
  ASSERT_OK(layered);
  v1::ImageManifest bad = *layered;
  bad.mutable_artifacts(2)->set_format("raw");
  EXPECT_THAT(ValidateImageManifest(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("artifacts[3]: "),
                             HasSubstr("only a qcow2 disk has a backing disk"))));
  bad = *layered;
  bad.mutable_artifacts(3)->set_sha256(layered->artifacts(2).sha256());
  EXPECT_THAT(ValidateImageManifest(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("artifacts[3].sha256: "), HasSubstr("each disk once"))));
  bad = *layered;
  bad.mutable_artifacts(3)->clear_format();
  EXPECT_THAT(ValidateImageManifest(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("artifacts[3].format"), HasSubstr("qcow2 or raw"))));
  bad = *layered;
  for (int i = 0; i < 8; ++i) {
    v1::ImageArtifact* more = bad.add_artifacts();
    *more = layered->artifacts(3);
    more->set_file(absl::StrCat("level", i));
    more->set_sha256(std::string(63, '0') + static_cast<char>('0' + i));
  }
  EXPECT_THAT(ValidateImageManifest(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 8 backing disks")));
}

TEST(ImageManifestYaml, LoadingAMissingFileIsNotFound) {
  EXPECT_THAT(LoadImageManifestFile("/nonexistent/manifest.yaml"),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace labrack
