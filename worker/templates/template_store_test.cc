#include "worker/templates/template_store.h"

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
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class TemplateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = labrack::testing::MakeTempDir("template-store"); }
  void TearDown() override {
    store_.reset();
    fs::remove_all(root_);
  }
  void Open(uint64_t budget) {
    store_.reset();
    auto s = TemplateStore::Open(root_ + "/t", budget, [this] { return now_; });
    ASSERT_OK(s);
    store_ = *std::move(s);
  }
  // Stages a template of `key` whose state file has `bytes` bytes and one volume, commits it.
  absl::Status Add(const std::string& key, size_t bytes) {
    absl::StatusOr<std::string> staged = store_->Stage(key);
    if (!staged.ok()) return staged.status();
    std::ofstream(TemplateStore::StatePath(*staged)) << std::string(bytes, 'm');
    std::ofstream(TemplateStore::VolumePath(*staged, 0)) << "vol";
    v1::NodeTemplate meta;
    meta.set_key(key);
    meta.set_node("server");
    return store_->Commit(*staged, meta, 1);
  }
  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    for (const v1::NodeTemplate& t : store_->List()) keys.push_back(t.key());
    return keys;
  }

  std::string root_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  std::unique_ptr<TemplateStore> store_;
};

TEST_F(TemplateStoreTest, ACommittedTemplateIsFoundWithItsFilesAndCountsHits) {
  Open(0);
  ASSERT_OK(Add("k1", 100));
  EXPECT_THAT(store_->Use("k2"), StatusIs(absl::StatusCode::kNotFound));
  now_ += absl::Minutes(5);
  auto t = store_->Use("k1");
  ASSERT_OK(t);
  EXPECT_TRUE(fs::exists((*t)->state));
  ASSERT_EQ((*t)->volumes.size(), 1u);
  EXPECT_TRUE(fs::exists((*t)->volumes[0]));
  std::vector<v1::NodeTemplate> list = store_->List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].hits(), 1u);
  EXPECT_EQ(list[0].size_bytes(), 103u);
  EXPECT_EQ(list[0].last_used().seconds(), absl::ToUnixSeconds(now_));
  EXPECT_EQ(list[0].created().seconds(), absl::ToUnixSeconds(now_ - absl::Minutes(5)));
}

TEST_F(TemplateStoreTest, TemplatesSurviveAReopenAndHalfBuiltOnesAreDropped) {
  Open(0);
  ASSERT_OK(Add("k1", 10));
  ASSERT_OK(store_->Use("k1").status());
  ASSERT_OK(store_->Stage("k2").status());  // a crash while building k2
  fs::create_directories(root_ + "/t/k3");   // a folder without template.json
  Open(0);
  EXPECT_THAT(Keys(), ElementsAre("k1"));
  EXPECT_EQ(store_->List()[0].hits(), 1u);
  std::vector<std::string> names;
  for (const auto& f : fs::directory_iterator(root_ + "/t")) names.push_back(f.path().filename());
  EXPECT_THAT(names, ElementsAre("k1"));
}

TEST_F(TemplateStoreTest, TheLeastRecentlyUsedGoFirstWhenTheBudgetIsExceeded) {
  Open(2 * 103 + 50);
  ASSERT_OK(Add("old", 100));
  now_ += absl::Seconds(1);
  ASSERT_OK(Add("used", 100));
  now_ += absl::Seconds(1);
  ASSERT_OK(store_->Use("old").status());  // now "used" is the least recently used
  now_ += absl::Seconds(1);
  ASSERT_OK(Add("new", 100));
  EXPECT_THAT(Keys(), ElementsAre("old", "new"));
  EXPECT_FALSE(fs::exists(root_ + "/t/used"));
  EXPECT_LE(store_->used_bytes(), 2 * 103u + 50);
}

TEST_F(TemplateStoreTest, AHeldTemplateIsNeitherEvictedNorDeletedUntilReleased) {
  Open(150);
  ASSERT_OK(Add("held", 100));
  auto held = store_->Use("held");
  ASSERT_OK(held);
  now_ += absl::Seconds(1);
  ASSERT_OK(Add("next", 100));  // over budget, but "held" is in use
  EXPECT_TRUE(fs::exists((*held)->state));
  ASSERT_OK(store_->Remove("held"));
  EXPECT_THAT(store_->Use("held"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(fs::exists((*held)->state));  // still restoring from it
  const std::string state = (*held)->state;
  held->reset();
  EXPECT_THAT(Keys(), ElementsAre("next"));
  EXPECT_FALSE(fs::exists(state));
}

TEST_F(TemplateStoreTest, ATemplateLargerThanTheBudgetIsRefusedAndLeavesNothing) {
  Open(50);
  EXPECT_THAT(Add("big", 100), StatusIs(absl::StatusCode::kResourceExhausted,
                                        ::testing::HasSubstr("--template-budget")));
  EXPECT_THAT(Keys(), IsEmpty());
  EXPECT_TRUE(fs::is_empty(root_ + "/t"));
}

TEST_F(TemplateStoreTest, ASecondCommitOfAKeyIsAlreadyExistsAndItsFolderGoes) {
  Open(0);
  ASSERT_OK(Add("k1", 10));
  EXPECT_THAT(Add("k1", 20), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(Keys(), ElementsAre("k1"));
  EXPECT_EQ(store_->List()[0].size_bytes(), 13u);
  int folders = 0;
  for ([[maybe_unused]] const auto& f : fs::directory_iterator(root_ + "/t")) ++folders;
  EXPECT_EQ(folders, 1);
}

TEST_F(TemplateStoreTest, StaleTemplatesAreRemovedByRule) {
  Open(0);
  ASSERT_OK(Add("a", 10));
  ASSERT_OK(Add("b", 10));
  EXPECT_EQ(store_->RemoveIf([](const v1::NodeTemplate& t) { return t.key() == "a"; }), 1);
  EXPECT_THAT(Keys(), ElementsAre("b"));
  EXPECT_FALSE(fs::exists(root_ + "/t/a"));
  EXPECT_THAT(store_->Remove("a"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace labrack::worker
