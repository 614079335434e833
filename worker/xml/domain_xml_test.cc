// Tests of the domain XML builder (golden files) and parser (round trips, libvirt dumps,
// hostile values, malformed input).
#include "worker/xml/domain_xml.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
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

ObjectTag SampleTag(const std::string& node) {
  ObjectTag tag;
  tag.host_id = "host-a";
  tag.sandbox_id = "0123abcd-4567-89ab-cdef-0123456789ab";
  tag.generation = 3;
  tag.node = node;
  tag.session_id = "exam-2024-06";
  tag.candidate = "cand.042@centre";
  tag.topology = "l1-basics";
  tag.spec_json = R"({"nodes":[{"name":")" + node + R"("}],"note":"say \"hi\" <b> & 'x'"})";
  return tag;
}

// Direct kernel boot, an overlay and a blank disk, two NICs (one filtered, which the XML
// does not show), a serial log.
DomainSpec KernelBootSpec() {
  DomainSpec spec;
  spec.name = "lr-0123abcd-server1";
  spec.type = DomainType::kQemu;
  spec.vcpus = 2;
  spec.memory_mib = 256;
  spec.kernel = "/var/lib/labrack/images/aa11/vmlinuz";
  spec.initrd = "/var/lib/labrack/images/aa11/initrd.img";
  spec.cmdline = "console=ttyS0 no_timer_check root=/dev/vda rw";
  spec.disks = {{"/var/lib/labrack/pool/lr-0123abcd-server1-root.qcow2", DiskFormat::kQcow2,
                 {{"/var/lib/labrack/images/aa11/disk.qcow2", DiskFormat::kQcow2}}, "vda"},
                {"/var/lib/labrack/pool/lr-0123abcd-server1-data0.qcow2", DiskFormat::kQcow2, {},
                 "vdb"}};
  spec.nics = {{"lr-0123abcd-lan", "52:54:00:0a:00:0b", "10.0.0.11"},
               {"lr-0123abcd-mgmt", "52:54:00:0a:01:0b", ""}};
  spec.serial_log = "/var/lib/labrack/logs/lr-0123abcd-server1.log";
  spec.tag = SampleTag("server1");
  return spec;
}

// KVM, disk boot from an overlay on a raw base, one NIC.
DomainSpec KvmSpec() {
  DomainSpec spec;
  spec.name = "lr-0123abcd-router";
  spec.type = DomainType::kKvm;
  spec.vcpus = 1;
  spec.memory_mib = 512;
  spec.disks = {{"/var/lib/labrack/pool/lr-0123abcd-router-root.qcow2", DiskFormat::kQcow2,
                 {{"/var/lib/labrack/images/bb22/disk.raw", DiskFormat::kRaw}}, "vda"}};
  spec.nics = {{"lr-0123abcd-lan", "52:54:00:0a:00:01", ""}};
  spec.serial_log = "/var/lib/labrack/logs/lr-0123abcd-router.log";
  spec.tag = SampleTag("router");
  return spec;
}

void ExpectSameSpec(const DomainSpec& got, const DomainSpec& want) {
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.vcpus, want.vcpus);
  EXPECT_EQ(got.memory_mib, want.memory_mib);
  EXPECT_EQ(got.kernel, want.kernel);
  EXPECT_EQ(got.initrd, want.initrd);
  EXPECT_EQ(got.cmdline, want.cmdline);
  ASSERT_EQ(got.disks.size(), want.disks.size());
  for (size_t i = 0; i < got.disks.size(); ++i) {
    EXPECT_EQ(got.disks[i].path, want.disks[i].path) << i;
    EXPECT_EQ(got.disks[i].format, want.disks[i].format) << i;
    EXPECT_EQ(got.disks[i].backing, want.disks[i].backing) << i;
    EXPECT_EQ(got.disks[i].target, want.disks[i].target) << i;
  }
  ASSERT_EQ(got.nics.size(), want.nics.size());
  for (size_t i = 0; i < got.nics.size(); ++i) {
    EXPECT_EQ(got.nics[i].network, want.nics[i].network) << i;
    EXPECT_EQ(got.nics[i].mac, want.nics[i].mac) << i;
    EXPECT_EQ(got.nics[i].filter_ip, "") << i << ": the port filter is not in the XML";
    EXPECT_EQ(got.nics[i].tap, want.nics[i].tap) << i;
  }
  EXPECT_EQ(got.serial_log, want.serial_log);
  EXPECT_EQ(got.tag, want.tag);
}

void ExpectRoundTrip(const DomainSpec& spec) {
  absl::StatusOr<ParsedDomain> parsed = ParseDomainXml(BuildDomainXml(spec));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(parsed->has_tag);
  ExpectSameSpec(parsed->spec, spec);
  EXPECT_EQ(BuildDomainXml(parsed->spec), BuildDomainXml(spec));
}

TEST(DomainXml, KernelBootMatchesGolden) {
  ExpectMatchesGolden(BuildDomainXml(KernelBootSpec()), "domain_kernel_boot.xml");
}

// libvirt's nwfilter cost seconds per start and destroy and left ebtables chains behind
// when libvirtd was killed; the worker's port filter (nft_port_filter.h) replaces it.
TEST(DomainXml, LeavesAntiSpoofingToThePortFilter) {
  DomainSpec spec = KernelBootSpec();
  ASSERT_EQ(spec.nics[0].filter_ip, "10.0.0.11");
  std::string xml = BuildDomainXml(spec);
  EXPECT_THAT(xml, Not(HasSubstr("filterref")));
  EXPECT_THAT(xml, Not(HasSubstr("10.0.0.11")));
}

TEST(DomainXml, KvmMatchesGolden) {
  ExpectMatchesGolden(BuildDomainXml(KvmSpec()), "domain_kvm.xml");
}

// A router at one end of a shaped WAN on a host with netem: its WAN NIC's tap has a name
// of labrack's, for tc to find.
DomainSpec ShapedLinkSpec() {
  DomainSpec spec = KernelBootSpec();
  spec.name = "lr-0123abcd-site1";
  spec.disks.resize(1);
  spec.nics = {{"lr-0123abcd-lan", "52:54:00:0a:00:0c", ""},
               {"lr-0123abcd-wan.a", "52:54:00:0a:01:0c", ""}};
  spec.nics[1].tap = "lr0123abcdv0101";
  spec.tag = SampleTag("site1");
  return spec;
}

TEST(DomainXml, ShapedLinkNicMatchesGolden) {
  ExpectMatchesGolden(BuildDomainXml(ShapedLinkSpec()), "domain_shaped_link.xml");
}

TEST(DomainXml, NamesTheTapOfTheShapedNicOnly) {
  std::string xml = BuildDomainXml(ShapedLinkSpec());
  EXPECT_THAT(xml, HasSubstr("<source network='lr-0123abcd-wan.a' />\n"
                             "      <target dev='lr0123abcdv0101' />\n"
                             "      <model type='virtio' />"));
  EXPECT_EQ(xml.find("<target dev='lr"), xml.rfind("<target dev='lr"));
  ExpectRoundTrip(ShapedLinkSpec());
}

// A node of a captured image: its overlay lies on the captured layer, which lies on the
// image it was captured from; every level is stated with its format, then the chain ends.
DomainSpec LayeredSpec() {
  DomainSpec spec = KernelBootSpec();
  spec.disks.resize(1);
  spec.disks[0].backing = {{"/var/lib/labrack/images/blobs/cc33", DiskFormat::kQcow2},
                           {"/var/lib/labrack/images/blobs/aa11", DiskFormat::kRaw}};
  return spec;
}

TEST(DomainXml, LayeredDiskMatchesGolden) {
  ExpectMatchesGolden(BuildDomainXml(LayeredSpec()), "domain_layered_disk.xml");
  ExpectRoundTrip(LayeredSpec());
}

TEST(DomainXml, StatesEveryLevelOfTheChainWithItsFormatAndEndsIt) {
  std::string xml = BuildDomainXml(LayeredSpec());
  EXPECT_THAT(xml, HasSubstr("<backingStore type='file'>\n"
                             "          <format type='raw' />\n"
                             "          <source file='/var/lib/labrack/images/blobs/aa11'>\n"
                             "            <seclabel model='dac' relabel='no' />\n"
                             "          </source>\n"
                             "          <backingStore />\n"
                             "        </backingStore>"));
}

TEST(ParseDomainXml, RefusesAnEndlessBackingChain) {
  std::string xml = BuildDomainXml(LayeredSpec());
  std::string level = "<backingStore type='file'><format type='qcow2'/><source file='/x'/>";
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += level;
  deep += "<backingStore/>";
  for (int i = 0; i < 20; ++i) deep += "</backingStore>";
  size_t at = xml.find("<backingStore type");
  size_t end = xml.find("<target dev='vda'");
  xml.replace(at, end - at, deep);
  EXPECT_THAT(ParseDomainXml(xml),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("deeper than 16")));
}

TEST(DomainXml, OnlyKvmPassesTheHostCpuThrough) {
  EXPECT_THAT(BuildDomainXml(KvmSpec()), HasSubstr("<cpu mode='host-passthrough' />"));
  EXPECT_THAT(BuildDomainXml(KernelBootSpec()), Not(HasSubstr("<cpu")));
}

TEST(DomainXml, RoundTripsThroughParse) {
  ExpectRoundTrip(KernelBootSpec());
  ExpectRoundTrip(KvmSpec());
  DomainSpec bare;
  bare.name = "lr-0123abcd-bare";
  ExpectRoundTrip(bare);
}

TEST(DomainXml, EscapesHostileValuesAndReadsThemBack) {
  DomainSpec spec = KernelBootSpec();
  const std::string hostile = R"(x'"<>&y)";
  spec.name = hostile;
  spec.cmdline = hostile;
  spec.disks[0].path = "/tmp/" + hostile;
  spec.disks[0].backing[0].path = "/tmp/base" + hostile;
  spec.nics[0].network = hostile;
  spec.nics[0].filter_ip = hostile;
  spec.serial_log = "/tmp/log" + hostile;
  spec.tag.node = hostile;
  std::string xml = BuildDomainXml(spec);
  EXPECT_THAT(xml, HasSubstr("<name>x'\"&lt;&gt;&amp;y</name>"));
  EXPECT_THAT(xml, HasSubstr("network='x&apos;\"&lt;>&amp;y'"));
  EXPECT_THAT(xml, Not(HasSubstr(hostile)));
  ExpectRoundTrip(spec);
}

// Captured by hand from `virsh -c qemu:///system dumpxml` of domain_kernel_boot.xml defined
// under another name: libvirt adds a uuid, addresses, a machine version, input devices...
TEST(DomainXml, ReadsLibvirtsDumpOfTheGolden) {
  absl::StatusOr<ParsedDomain> parsed = ParseDomainXml(ReadGolden("libvirt_dump_domain.xml"));
  ASSERT_THAT(parsed, IsOk());
  DomainSpec want = KernelBootSpec();
  want.name = "lrxmltest-server1";
  ExpectSameSpec(parsed->spec, want);
}

TEST(ParseDomainXml, ReadsLibvirtMemoryUnits) {
  const std::pair<const char*, uint32_t> kCases[] = {
      {"<memory unit='KiB'>262144</memory>", 256},  {"<memory>262144</memory>", 256},
      {"<memory unit='GiB'>2</memory>", 2048},      {"<memory unit='M'>64</memory>", 64},
      {"<memory unit='bytes'>1048576</memory>", 1}, {"<memory unit='MB'>1000</memory>", 953}};
  for (const auto& [memory, mib] : kCases) {
    std::string xml = absl::StrCat("<domain type='qemu'><name>d</name>", memory,
                                   "<vcpu placement='static'>1</vcpu></domain>");
    absl::StatusOr<ParsedDomain> parsed = ParseDomainXml(xml);
    ASSERT_THAT(parsed, IsOk()) << memory;
    EXPECT_EQ(parsed->spec.memory_mib, mib) << memory;
    EXPECT_FALSE(parsed->has_tag);
  }
}

TEST(ParseDomainXml, RejectsWhatLabrackNeverWrites) {
  std::string good = BuildDomainXml(KernelBootSpec());
  auto expect_invalid = [&](const std::string& from, const std::string& to) {
    std::string xml = absl::StrReplaceAll(good, {{from, to}});
    ASSERT_NE(xml, good) << from;
    EXPECT_THAT(ParseDomainXml(xml), StatusIs(absl::StatusCode::kInvalidArgument)) << to;
  };
  expect_invalid("<domain type='qemu'>", "<domain type='xen'>");
  expect_invalid("unit='MiB'", "unit='parsecs'");
  expect_invalid("<vcpu>2</vcpu>", "<vcpu>two</vcpu>");
  expect_invalid("type='qcow2' cache", "cache");  // a disk without a stated format
  expect_invalid("<format type='qcow2' />", "<format type='vmdk' />");
  expect_invalid("<interface type='network'>", "<interface type='bridge'>");
  expect_invalid("<labrack:generation>3<", "<labrack:generation>three<");
  expect_invalid("</domain>", "");
  EXPECT_THAT(ParseDomainXml("<network/>"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace labrack::worker
