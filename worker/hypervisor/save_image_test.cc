#include "worker/hypervisor/save_image.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"

namespace labrack::worker {
namespace {

namespace fs = std::filesystem;
using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

class SaveImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = labrack::testing::MakeTempDir("save-image");
    SaveImageHeader header;
    header.was_running = true;
    header.domain_xml = "<domain><name>a</name></domain>";
    header.cookie = "<cookie><cpu/></cookie>";
    ASSERT_OK(WriteSaveImage(Path("a.sav"), header, kStream));
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return dir_ + "/" + name; }
  std::string Read(const std::string& name) {
    std::ifstream in(Path(name), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
  // Overwrites one little-endian uint32 of a.sav's header (word 0 is the version).
  void SetWord(int word, uint32_t value) {
    std::fstream f(Path("a.sav"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(16 + 4 * word);
    for (int i = 0; i < 4; ++i) f.put(static_cast<char>(value >> (8 * i)));
  }

  static constexpr char kStream[] = "QEVM memory state bytes";
  std::string dir_;
};

TEST_F(SaveImageTest, ReadsWhatItWrote) {
  auto header = ReadSaveImageHeader(Path("a.sav"));
  ASSERT_OK(header);
  EXPECT_EQ(header->version, 2u);
  EXPECT_TRUE(header->was_running);
  EXPECT_EQ(header->domain_xml, "<domain><name>a</name></domain>");
  EXPECT_EQ(header->cookie, "<cookie><cpu/></cookie>");
  EXPECT_EQ(Read("a.sav").substr(header->stream_offset), kStream);
}

TEST_F(SaveImageTest, ACopyWithAnotherXmlKeepsTheCookieFlagsAndMemoryState) {
  const std::string longer = "<domain><name>b</name>" + std::string(100'000, ' ') + "</domain>";
  ASSERT_OK(WriteSaveImageWithXml(Path("a.sav"), longer, Path("b.sav")));
  auto header = ReadSaveImageHeader(Path("b.sav"));
  ASSERT_OK(header);
  EXPECT_EQ(header->domain_xml, longer);
  EXPECT_EQ(header->cookie, "<cookie><cpu/></cookie>");
  EXPECT_TRUE(header->was_running);
  EXPECT_EQ(Read("b.sav").substr(header->stream_offset), kStream);
  EXPECT_EQ(fs::status(Path("b.sav")).permissions() & fs::perms::all, fs::perms(0600));
}

TEST_F(SaveImageTest, RewritesTheXmlInPlaceWhenItFits) {
  const uintmax_t size = fs::file_size(Path("a.sav"));
  ASSERT_OK(RewriteSaveImageXml(Path("a.sav"), "<domain><name>c</name></domain>"));
  EXPECT_EQ(fs::file_size(Path("a.sav")), size);
  auto header = ReadSaveImageHeader(Path("a.sav"));
  ASSERT_OK(header);
  EXPECT_EQ(header->domain_xml, "<domain><name>c</name></domain>");
  EXPECT_EQ(Read("a.sav").substr(header->stream_offset), kStream);
  EXPECT_THAT(RewriteSaveImageXml(Path("a.sav"), std::string(1 << 20, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not fit")));
}

TEST_F(SaveImageTest, RefusesWhatIsNotAVersionTwoUncompressedSaveImage) {
  std::ofstream(Path("foreign.sav")) << "LibvirtQemudPart" << std::string(200, '\0');
  EXPECT_THAT(ReadSaveImageHeader(Path("foreign.sav")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("magic")));
  std::ofstream(Path("short.sav")) << "LibvirtQemudSave";
  EXPECT_THAT(ReadSaveImageHeader(Path("short.sav")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ends inside its header")));
  EXPECT_THAT(ReadSaveImageHeader(Path("missing.sav")), StatusIs(absl::StatusCode::kNotFound));

  SetWord(0, 3);
  EXPECT_THAT(ReadSaveImageHeader(Path("a.sav")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("version is 3")));
  SetWord(0, 2);
  SetWord(3, 1);  // compressed
  EXPECT_THAT(ReadSaveImageHeader(Path("a.sav")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("compressed")));
  SetWord(3, 0);
  SetWord(4, 5);  // the cookie inside the XML
  EXPECT_THAT(ReadSaveImageHeader(Path("a.sav")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cookie offset")));
  SetWord(4, 0);
  SetWord(1, 1u << 30);  // an XML region of 1 GiB
  EXPECT_THAT(ReadSaveImageHeader(Path("a.sav")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("XML region")));
  // Nothing is written from a file it refuses.
  EXPECT_FALSE(WriteSaveImageWithXml(Path("a.sav"), "<domain/>", Path("c.sav")).ok());
  EXPECT_FALSE(fs::exists(Path("c.sav")));
}

}  // namespace
}  // namespace labrack::worker
