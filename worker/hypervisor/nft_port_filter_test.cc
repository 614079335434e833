// The port filter's nftables text, held against golden files in testdata/ (refresh with
// LABRACK_UPDATE_GOLDEN=1), its validation, and the reading of `nft list` output.
#include "worker/hypervisor/nft_port_filter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "worker/xml/golden.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::StatusIs;
using ::labrack::worker::testing::ExpectMatchesGolden;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

PortFilterSpec TwoGuests() {
  PortFilterSpec spec;
  spec.sandbox_id = "0123abcd-0000-4000-8000-000000000001";
  spec.host_id = "host-a";
  spec.ports = {{"lr0123abcdv0000", "52:54:00:0a:00:0b", "10.10.1.1"},
                {"lr0123abcdv0100", "52:54:00:0a:01:0c", "10.10.1.2"}};
  return spec;
}

TEST(PortFilterScript, ReplacesTheSandboxTableWithOneChainPerGuest) {
  absl::StatusOr<std::string> script = BuildPortFilterScript(TwoGuests());
  ASSERT_OK(script);
  ExpectMatchesGolden(*script, "port_filter_two_guests.nft");
}

TEST(PortFilterScript, ASandboxWithoutFilteredGuestsGetsAnEmptyTable) {
  PortFilterSpec spec = TwoGuests();
  spec.ports.clear();
  absl::StatusOr<std::string> script = BuildPortFilterScript(spec);
  ASSERT_OK(script);
  ExpectMatchesGolden(*script, "port_filter_empty.nft");
}

TEST(PortFilterScript, RefusesWhatCouldBreakOutOfTheScript) {
  struct Case {
    void (*change)(PortFilterSpec&);
    std::string field;
  };
  const Case cases[] = {
      {[](PortFilterSpec& s) { s.ports[1].tap = "x\" } drop; {"; }, "ports[1].tap"},
      {[](PortFilterSpec& s) { s.ports[1].tap = "lr0123abcdv00000"; }, "ports[1].tap"},
      {[](PortFilterSpec& s) { s.ports[1].tap = s.ports[0].tap; }, "ports[1].tap"},
      {[](PortFilterSpec& s) { s.ports[0].mac = "52:54:00:0A:00:0B"; }, "ports[0].mac"},
      {[](PortFilterSpec& s) { s.ports[0].mac = "53:54:00:0a:00:0b"; }, "ports[0].mac"},  // multicast
      {[](PortFilterSpec& s) { s.ports[0].mac = "52:54:00:0a:00:0b accept"; }, "ports[0].mac"},
      {[](PortFilterSpec& s) { s.ports[0].ip = "10.10.1.1/24"; }, "ports[0].ip"},
      {[](PortFilterSpec& s) { s.ports[0].ip = "010.10.1.1"; }, "ports[0].ip"},
      {[](PortFilterSpec& s) { s.ports[0].ip = ""; }, "ports[0].ip"},
      {[](PortFilterSpec& s) { s.host_id = "a\"b"; }, "host_id"},
      {[](PortFilterSpec& s) { s.sandbox_id = "nothex!"; }, "sandbox_id"},
  };
  for (const Case& c : cases) {
    PortFilterSpec spec = TwoGuests();
    c.change(spec);
    EXPECT_THAT(BuildPortFilterScript(spec),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)));
  }
}

TEST(PortFilterScript, DeletingSucceedsWhetherOrNotTheTableExists) {
  EXPECT_EQ(BuildPortFilterDeleteScript("0123abcd-0000-4000-8000-000000000001"),
            "add table bridge lr-0123abcd\ndelete table bridge lr-0123abcd\n");
}

TEST(PortFilterTables, NamesAreLrAndTheSandboxPrefix) {
  EXPECT_EQ(PortFilterTableName("0123abcd-0000-4000-8000-000000000001"), "lr-0123abcd");
  EXPECT_TRUE(IsPortFilterTableName("lr-0123abcd"));
  EXPECT_FALSE(IsPortFilterTableName("lr-0123abc"));
  EXPECT_FALSE(IsPortFilterTableName("lr-0123abcd-x"));
  EXPECT_FALSE(IsPortFilterTableName("lr-0123ABCD"));
  EXPECT_FALSE(IsPortFilterTableName("nat"));
}

TEST(PortFilterTables, ReadsLabrackTablesAndTheirStampFromAListing) {
  // As `nft list ruleset bridge` prints it, with ebtables' own table beside ours and one of
  // ours without a stamp (made by hand).
  const std::string listing =
      "table bridge nat {\n"
      "\tchain PREROUTING {\n\t\ttype filter hook prerouting priority dstnat; policy accept;\n\t}\n"
      "}\n"
      "table bridge lr-0123abcd {\n"
      "\tcomment \"labrack host=host-a sandbox=0123abcd-0000-4000-8000-000000000001\"\n"
      "\tchain from_guests {\n"
      "\t\tcomment \"labrack host=evil sandbox=ffffffff\"\n"
      "\t}\n"
      "}\n"
      "table bridge lr-99999999 {\n"
      "\tchain c {\n\t}\n"
      "}\n";
  EXPECT_THAT(ParsePortFilterTables(listing),
              ElementsAre(PortFilterInfo{"0123abcd", "0123abcd-0000-4000-8000-000000000001", "host-a"},
                          PortFilterInfo{"99999999", "99999999", ""}));
}

TEST(PortFilterTables, ReadsWhatItWrites) {
  absl::StatusOr<std::string> script = BuildPortFilterScript(TwoGuests());
  ASSERT_OK(script);
  // nft prints the table back without the add and delete lines before it.
  std::string listing = script->substr(script->find("\ntable ") + 1);
  EXPECT_THAT(ParsePortFilterTables(listing),
              ElementsAre(PortFilterInfo{"0123abcd", TwoGuests().sandbox_id, "host-a"}));
}

}  // namespace
}  // namespace labrack::worker
