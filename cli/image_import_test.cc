// labrackctl image import in-process against an in-memory LabController: every byte of
// every artifact arrives, and mistakes are reported with the file they concern.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "cli/testing/cli_fixture.h"
#include "common/sha256.h"
#include "common/topology/manifest_yaml.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"

namespace labrack::cli::testing {
namespace {

using ::testing::HasSubstr;

// An image folder whose disk spans several chunks, with its manifest.yaml.
std::string WriteImageFolder(const std::string& dir, v1::ImageManifest* manifest) {
  *manifest = labrack::testing::WriteFakeImage(dir, "tiny2");
  v1::ImageArtifact* disk = manifest->mutable_artifacts(2);
  std::string bytes;
  {
    std::ifstream in(dir + "/" + disk->file(), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes.resize(2 * (1 << 20) + 12345, '\x5a');
  std::ofstream(dir + "/" + disk->file(), std::ios::binary) << bytes;
  Sha256 sha;
  sha.Update(bytes);
  disk->set_sha256(sha.HexDigest());
  disk->set_size_bytes(bytes.size());
  std::ofstream(dir + "/manifest.yaml") << ImageManifestToYaml(*manifest);
  return dir + "/manifest.yaml";
}

TEST_F(CliTest, ImageImportStreamsEveryByteOfEveryArtifact) {
  v1::ImageManifest manifest;
  std::string path = WriteImageFolder(TempDir() + "/tiny2", &manifest);
  CliResult r = Run({"image", "import", path});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("image tiny2 version 1 imported (3 artifacts"));
  std::vector<testing::ReceivedImage> got = fake_->received_images();
  ASSERT_EQ(got.size(), 1u);
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    EXPECT_EQ(got[0].bytes_by_file[a.file()], a.size_bytes()) << a.file();
    EXPECT_EQ(got[0].sha256_by_file[a.file()], a.sha256()) << a.file();
  }
  EXPECT_EQ(r.err, "") << "no progress line when stderr is not a terminal";
}

TEST_F(CliTest, ImageImportSendsOnlyTheArtifactsTheStoreLacks) {
  v1::ImageManifest manifest;
  const std::string dir = TempDir() + "/tiny2";
  std::string path = WriteImageFolder(dir, &manifest);
  ASSERT_EQ(Run({"image", "import", path}).code, kExitOk);
  // A new version whose disk changed: only the disk travels.
  v1::ImageArtifact* disk = manifest.mutable_artifacts(2);
  std::string bytes(3000, 'd');
  const std::string disk_path = dir + "/" + disk->file();
  std::filesystem::remove(disk_path);
  std::ofstream(disk_path, std::ios::binary) << bytes;
  Sha256 sha;
  sha.Update(bytes);
  disk->set_sha256(sha.HexDigest());
  disk->set_size_bytes(bytes.size());
  manifest.set_version("2");
  std::ofstream(path) << ImageManifestToYaml(manifest);
  CliResult r = Run({"image", "import", path});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("2 of 3 artifacts were in the store already and were not sent"));
  std::vector<testing::ReceivedImage> got = fake_->received_images();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].bytes_by_file.size(), 1u);
  EXPECT_EQ(got[1].bytes_by_file[disk->file()], bytes.size());
}

TEST_F(CliTest, ImageImportReportsTheControllersHashMismatch) {
  v1::ImageManifest manifest;
  std::string dir = TempDir() + "/tiny2";
  WriteImageFolder(dir, &manifest);
  std::ofstream(dir + "/vmlinuz", std::ios::binary) << "kernel of tinyX";  // same size
  CliResult r = Run({"image", "import", dir + "/manifest.yaml"});
  EXPECT_NE(r.code, kExitOk);
  EXPECT_THAT(r.err, HasSubstr("artifact vmlinuz: sha256"));
}

TEST_F(CliTest, ImageImportOfATruncatedArtifactFailsBeforeSending) {
  v1::ImageManifest manifest;
  std::string dir = TempDir() + "/tiny2";
  WriteImageFolder(dir, &manifest);
  std::ofstream(dir + "/initrd.img", std::ios::binary) << "short";
  CliResult r = Run({"image", "import", dir + "/manifest.yaml"});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_THAT(r.err, HasSubstr("artifact initrd.img: "));
  EXPECT_EQ(fake_->calls("ImportImage"), 0);
}

}  // namespace
}  // namespace labrack::cli::testing
