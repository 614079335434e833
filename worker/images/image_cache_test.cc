#include "worker/images/image_cache.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::MakeTempDir;
using ::labrack::testing::StatusIs;
using ::labrack::testing::WriteFakeImage;
using ::testing::HasSubstr;

class ImageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("image-cache");
    src_ = root_ + "/src";
    manifest_ = WriteFakeImage(src_, "tiny", 2ull << 30);
    auto cache = ImageCache::Open(root_ + "/cache");
    ASSERT_OK(cache);
    cache_ = *std::move(cache);
  }
  void TearDown() override {
    std::filesystem::path root(root_);
    for (auto& e : std::filesystem::recursive_directory_iterator(root)) {
      std::filesystem::permissions(e.path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add);
    }
    std::filesystem::remove_all(root);
  }
  std::string root_, src_;
  v1::ImageManifest manifest_;
  std::unique_ptr<ImageCache> cache_;
};

TEST_F(ImageCacheTest, ImportStoresReadOnlyContentAddressedBlobs) {
  ASSERT_OK(cache_->ImportFromFolder(manifest_, src_));
  for (const v1::ImageArtifact& a : manifest_.artifacts()) {
    std::string path = cache_->BlobPath(a.sha256());
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0444u) << path;
  }
  auto image = cache_->Lookup("tiny");
  ASSERT_OK(image);
  EXPECT_EQ(image->disk_virtual_bytes, 2ull << 30);
  EXPECT_EQ(image->disk_format, "qcow2");
  EXPECT_THAT(image->kernel_path, HasSubstr(manifest_.artifacts(0).sha256()));
}

TEST_F(ImageCacheTest, RefusesAnArtifactWhoseHashDiffers) {
  std::ofstream(src_ + "/vmlinuz", std::ios::binary) << "kernel of tinX";  // same size
  EXPECT_THAT(cache_->ImportFromFolder(manifest_, src_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("sha256")));
  EXPECT_THAT(cache_->Lookup("tiny"), StatusIs(absl::StatusCode::kNotFound));
  // Nothing half-written is left among the blobs.
  for (auto& e : std::filesystem::directory_iterator(root_ + "/cache/blobs")) {
    EXPECT_THAT(e.path().string(), ::testing::Not(HasSubstr(".part-")));
  }
}

TEST_F(ImageCacheTest, RefusesChunksForUnknownFilesAndOversizedArtifacts) {
  auto import = cache_->BeginImport(manifest_);
  ASSERT_OK(import);
  EXPECT_THAT((*import)->Write("../etc/passwd", "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not an artifact")));
  EXPECT_THAT((*import)->Write("vmlinuz", std::string(1000, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("longer")));
}

TEST_F(ImageCacheTest, SecondImportNeedsNoBytes) {
  ASSERT_OK(cache_->ImportFromFolder(manifest_, src_));
  auto import = cache_->BeginImport(manifest_);
  ASSERT_OK(import);
  auto present = (*import)->Finish();
  ASSERT_OK(present);
  EXPECT_TRUE(*present);
}

TEST_F(ImageCacheTest, ReopenedCacheKnowsItsImages) {
  ASSERT_OK(cache_->ImportFromFolder(manifest_, src_));
  auto reopened = ImageCache::Open(root_ + "/cache");
  ASSERT_OK(reopened);
  ASSERT_OK((*reopened)->Lookup("tiny"));
  EXPECT_EQ((*reopened)->List().size(), 1u);
}

TEST_F(ImageCacheTest, RefusesAManifestWithAPathAsFileName) {
  v1::ImageManifest bad = manifest_;
  bad.mutable_artifacts(0)->set_file("../../vmlinuz");
  EXPECT_THAT(cache_->BeginImport(bad), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace labrack::worker
