#include "worker/images/image_cache.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::MakeTempDir;
using ::labrack::testing::StatusIs;
using ::labrack::testing::WriteFakeImage;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::HasSubstr;

// What a host command printed (stdout and stderr), then "exit=N".
std::string HostRun(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return "popen failed";
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  return absl::StrCat(out, "exit=", WEXITSTATUS(pclose(p)));
}

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

TEST_F(ImageCacheTest, ReadBlobReadsAHeldBlobInBoundedPiecesAndNothingElse) {
  ASSERT_OK(cache_->ImportFromFolder(manifest_, src_));
  const v1::ImageArtifact& disk = DiskArtifact(manifest_);
  std::string whole;
  for (uint64_t offset = 0;;) {
    absl::StatusOr<std::string> piece = cache_->ReadBlob(disk.sha256(), offset, 1000);
    ASSERT_OK(piece);
    if (piece->empty()) break;
    EXPECT_LE(piece->size(), 1000u);
    offset += piece->size();
    whole += *piece;
  }
  std::ifstream in(src_ + "/" + disk.file(), std::ios::binary);
  std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(whole, expected);
  EXPECT_THAT(cache_->ReadBlob(disk.sha256(), 0, 0), IsOkAndHolds(SizeIs(std::min<size_t>(
                                                         expected.size(), kMaxBlobReadBytes))));
  EXPECT_THAT(cache_->ReadBlob(std::string(64, 'a'), 0, 0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("aaaa")));
  EXPECT_THAT(cache_->ReadBlob("../manifests/tiny", 0, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sha256")));
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

TEST_F(ImageCacheTest, AnImportPastTheLimitIsRefusedBeforeAnyByte) {
  uint64_t total = 0;
  for (const v1::ImageArtifact& a : manifest_.artifacts()) total += a.size_bytes();
  cache_->SetMaxImportBytes(total - 1);
  EXPECT_THAT(cache_->BeginImport(manifest_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("manifest.artifacts"), HasSubstr("--max-image-bytes"))));
  EXPECT_THAT(cache_->List(), SizeIs(0));
  cache_->SetMaxImportBytes(total);
  ASSERT_OK(cache_->ImportFromFolder(manifest_, src_));
  // Cached already, an import brings nothing and passes any limit.
  cache_->SetMaxImportBytes(1);
  EXPECT_OK(cache_->BeginImport(manifest_));
}

TEST_F(ImageCacheTest, AnImportLargerThanTheFreeSpaceIsRefusedAndWritesNothing) {
  const std::string small = root_ + "/small";
  std::filesystem::create_directories(small);
  if (mount("tmpfs", small.c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount a 1 MiB tmpfs (needs root): " << std::strerror(errno);
  }
  absl::Cleanup unmount = [&] { umount2(small.c_str(), MNT_DETACH); };
  auto cache = ImageCache::Open(small + "/cache");
  ASSERT_OK(cache);
  v1::ImageManifest big = manifest_;
  big.mutable_artifacts(0)->set_size_bytes(4 << 20);
  EXPECT_THAT((*cache)->BeginImport(big),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("free; nothing was written")));
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(small + "/cache")) {
    if (e.is_regular_file()) ++files;
  }
  EXPECT_EQ(files, 0u);
}

TEST_F(ImageCacheTest, SecondImportNeedsNoBytes) {
  ASSERT_OK(cache_->ImportFromFolder(manifest_, src_));
  auto import = cache_->BeginImport(manifest_);
  ASSERT_OK(import);
  auto present = (*import)->Finish();
  ASSERT_OK(present);
  EXPECT_TRUE(*present);
}

// Writes every artifact of manifest_ from src_ into `import`, in one chunk each.
void SendAll(ImageImport& import, const v1::ImageManifest& manifest, const std::string& src) {
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    std::ifstream in(src + "/" + a.file(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_OK(import.Write(a.file(), bytes));
  }
}

TEST_F(ImageCacheTest, TheSameBytesSentAgainStoreNothingNewAndSaySo) {
  ASSERT_OK(cache_->ImportFromFolder(manifest_, src_));
  auto import = cache_->BeginImport(manifest_);
  ASSERT_OK(import);
  ASSERT_NO_FATAL_FAILURE(SendAll(**import, manifest_, src_));
  EXPECT_THAT((*import)->Finish(), IsOkAndHolds(true));
  for (auto& e : std::filesystem::directory_iterator(root_ + "/cache/blobs")) {
    EXPECT_THAT(e.path().string(), Not(HasSubstr(".part-")));
  }
}

TEST_F(ImageCacheTest, ANewManifestOnHeldArtifactsIsNotAlreadyPresent) {
  ASSERT_OK(cache_->ImportFromFolder(manifest_, src_));
  v1::ImageManifest renamed = manifest_;
  renamed.set_name("tiny-copy");
  auto import = cache_->BeginImport(renamed);
  ASSERT_OK(import);
  EXPECT_THAT((*import)->Finish(), IsOkAndHolds(false));
  EXPECT_OK(cache_->Lookup("tiny-copy"));
}

TEST_F(ImageCacheTest, AnArtifactNeitherHeldNorSentFailsNamingTheFile) {
  auto import = cache_->BeginImport(manifest_);
  ASSERT_OK(import);
  EXPECT_THAT((*import)->Finish(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(manifest_.artifacts(0).file()),
                             HasSubstr("is not in the store"))));
  EXPECT_THAT(cache_->Lookup("tiny"), StatusIs(absl::StatusCode::kNotFound));
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

// ---- layered images ----

// A cache holding `base`: a fake image whose disk is a real (empty) 64 MiB qcow2 file, as
// qemu-img needs one.
class LayeredImageTest : public ImageCacheTest {
 protected:
  void SetUp() override {
    ImageCacheTest::SetUp();
    ASSERT_THAT(HostRun("qemu-img create -q -f qcow2 " + src_ + "/disk.qcow2 64M"), Eq("exit=0"));
    v1::ImageArtifact* disk = manifest_.mutable_artifacts(2);
    disk->set_sha256(*Sha256OfFile(src_ + "/disk.qcow2"));
    disk->set_size_bytes(std::filesystem::file_size(src_ + "/disk.qcow2"));
    manifest_.set_name("base");
    ASSERT_OK(cache_->ImportFromFolder(manifest_, src_));
  }

  // An overlay on image `image`'s disk, named by its absolute path (as a node's root
  // overlay is), holding `byte` in its first 64 KiB.
  std::string Overlay(const std::string& image, char byte) {
    auto cached = cache_->Lookup(image);
    EXPECT_OK(cached);
    std::string path = absl::StrCat(root_, "/overlay-", overlays_++, ".qcow2");
    EXPECT_THAT(HostRun(absl::StrCat("qemu-img create -q -f qcow2 -b ", cached->disk_path,
                                 " -F qcow2 ", path, " 64M")),
                Eq("exit=0"));
    EXPECT_THAT(HostRun(absl::StrCat("qemu-io -f qcow2 -c 'write -P ", static_cast<int>(byte),
                                 " 0 64k' ", path, " >/dev/null")),
                Eq("exit=0"));
    return path;
  }

  // What qemu reads in the first 64 KiB of the image's disk, through its header's chain.
  std::string Reads(const std::string& image, char byte) {
    return HostRun(absl::StrCat("qemu-io -f qcow2 -r -c 'read -P ", static_cast<int>(byte),
                            " 0 64k' ", cache_->Lookup(image)->disk_path, " | grep -c '^read'"));
  }

  int overlays_ = 0;
};

TEST_F(LayeredImageTest, AddLayerMakesAnImageOnItsBaseThatNamesItByItsSha256) {
  std::string overlay = Overlay("base", 0x5a);
  auto made = cache_->AddLayer("base-captured", "capture-1", "base", overlay);
  ASSERT_OK(made);
  EXPECT_FALSE(std::filesystem::exists(overlay));
  auto image = cache_->Lookup("base-captured");
  ASSERT_OK(image);
  auto base = cache_->Lookup("base");
  ASSERT_OK(base);
  ASSERT_EQ(image->backing_chain.size(), 1u);
  EXPECT_EQ(image->backing_chain[0].path, base->disk_path);
  EXPECT_EQ(image->backing_chain[0].format, "qcow2");
  EXPECT_EQ(image->kernel_path, base->kernel_path);
  EXPECT_EQ(image->initrd_path, base->initrd_path);
  EXPECT_EQ(image->disk_virtual_bytes, 64u << 20);
  EXPECT_EQ(image->manifest.version(), "capture-1");
  EXPECT_EQ(image->manifest.cmdline(), base->manifest.cmdline());
  EXPECT_EQ(image->manifest.readiness().serial_marker(), "LABRACK-READY");
  const std::string base_sha = DiskArtifact(base->manifest).sha256();
  std::vector<std::string> kinds;
  for (const v1::ImageArtifact& a : image->manifest.artifacts()) {
    kinds.push_back(absl::StrCat(v1::ArtifactKind_Name(a.kind()), " ", a.file()));
  }
  EXPECT_THAT(kinds, ElementsAre("ARTIFACT_KIND_KERNEL vmlinuz", "ARTIFACT_KIND_INITRD initrd.img",
                                 "ARTIFACT_KIND_DISK disk.qcow2",
                                 "ARTIFACT_KIND_BACKING_DISK " + base_sha));
  // Kept read-only, and its header names the base relatively, which qemu resolves.
  struct stat st;
  ASSERT_EQ(stat(image->disk_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  EXPECT_THAT(HostRun("qemu-img info -f qcow2 " + image->disk_path),
              HasSubstr(absl::StrCat("backing file: ", base_sha, " (actual path: ",
                                     base->disk_path, ")\nbacking file format: qcow2")));
  EXPECT_EQ(Reads("base-captured", 0x5a), "1\nexit=0");
  EXPECT_TRUE(cache_->Has(image->manifest));
}

TEST_F(LayeredImageTest, ALayerOnALayeredImageListsTheWholeChain) {
  ASSERT_OK(cache_->AddLayer("one", "1", "base", Overlay("base", 0x11)));
  ASSERT_OK(cache_->AddLayer("two", "1", "one", Overlay("one", 0x22)));
  auto one = cache_->Lookup("one");
  auto two = cache_->Lookup("two");
  ASSERT_OK(one);
  ASSERT_OK(two);
  ASSERT_EQ(two->backing_chain.size(), 2u);
  EXPECT_EQ(two->backing_chain[0].path, one->disk_path);
  EXPECT_EQ(two->backing_chain[1].path, one->backing_chain[0].path);
  EXPECT_EQ(Reads("two", 0x22), "1\nexit=0");
  EXPECT_EQ(Reads("one", 0x11), "1\nexit=0");
}

TEST_F(LayeredImageTest, AddLayerRefusesATakenNameAndRemovesTheOverlay) {
  ASSERT_OK(cache_->AddLayer("taken", "1", "base", Overlay("base", 1)));
  std::string overlay = Overlay("base", 2);
  EXPECT_THAT(cache_->AddLayer("taken", "2", "base", overlay),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("version 1")));
  EXPECT_FALSE(std::filesystem::exists(overlay));
  EXPECT_THAT(cache_->AddLayer("other", "1", "missing", Overlay("base", 3)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(cache_->Lookup("taken")->manifest.version(), "1");
  // Nothing staged is left among the blobs.
  for (auto& e : std::filesystem::directory_iterator(root_ + "/cache/blobs")) {
    EXPECT_THAT(e.path().filename().string(), Not(HasSubstr(".layer-")));
  }
}

TEST_F(LayeredImageTest, ImportingALayeredImageBringsItsBaseAlong) {
  ASSERT_OK(cache_->AddLayer("captured", "1", "base", Overlay("base", 0x33)));
  v1::ImageManifest manifest = cache_->Lookup("captured")->manifest;
  // An export: every artifact under its manifest name in one folder.
  std::string folder = root_ + "/export";
  std::filesystem::create_directories(folder);
  for (const v1::ImageArtifact& a : manifest.artifacts()) {
    std::filesystem::copy_file(cache_->BlobPath(a.sha256()), folder + "/" + a.file());
  }
  auto other = ImageCache::Open(root_ + "/other-cache");
  ASSERT_OK(other);
  ASSERT_OK((*other)->ImportFromFolder(manifest, folder));
  auto image = (*other)->Lookup("captured");
  ASSERT_OK(image);
  ASSERT_EQ(image->backing_chain.size(), 1u);
  EXPECT_THAT(image->backing_chain[0].path, HasSubstr(root_ + "/other-cache/blobs/"));
  EXPECT_THAT(HostRun(absl::StrCat("qemu-io -f qcow2 -r -c 'read -P 51 0 64k' ",
                                   image->disk_path, " | grep -c '^read'")),
              Eq("1\nexit=0"));
}

TEST_F(LayeredImageTest, ImportRefusesADiskWhoseHeaderDisagreesWithTheManifest) {
  ASSERT_OK(cache_->AddLayer("captured", "1", "base", Overlay("base", 0x44)));
  v1::ImageManifest layered = cache_->Lookup("captured")->manifest;
  // The same layer claimed to lie on another disk (of another size, so other bytes).
  std::string other = src_ + "/other.qcow2";
  ASSERT_THAT(HostRun("qemu-img create -q -f qcow2 " + other + " 32M"), Eq("exit=0"));
  v1::ImageManifest wrong = layered;
  wrong.set_name("wrong-base");
  v1::ImageArtifact* below = wrong.mutable_artifacts(3);
  below->set_sha256(*Sha256OfFile(other));
  below->set_file(below->sha256());
  below->set_size_bytes(std::filesystem::file_size(other));
  std::filesystem::copy_file(other, src_ + "/" + below->file());
  std::filesystem::copy_file(cache_->Lookup("captured")->disk_path, src_ + "/layer.qcow2");
  wrong.mutable_artifacts(2)->set_file("layer.qcow2");
  EXPECT_THAT(cache_->ImportFromFolder(wrong, src_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("header of layer.qcow2 names \"" +
                                 DiskArtifact(manifest_).sha256())));
  // A layer presented as a disk that stands alone.
  v1::ImageManifest alone = layered;
  alone.set_name("alone");
  alone.mutable_artifacts()->RemoveLast();
  EXPECT_THAT(cache_->ImportFromFolder(alone, src_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("manifest says no backing file")));
  EXPECT_THAT(cache_->Lookup("wrong-base"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cache_->Lookup("alone"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace labrack::worker
