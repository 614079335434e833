// The image recipes (images/build.sh and the files it sources) write manifests that the
// parser the worker and labrackctl use accepts, whose artifacts match the files beside
// them, and every image the shipped topologies name has a recipe serving the node's role.
// The manifests come from images/check-recipes.sh --write-manifests on dummy artifacts:
// nothing is built.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/topology/manifest_yaml.h"
#include "common/topology/topology_yaml.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack {
namespace {

namespace fs = std::filesystem;

std::string SourceDir() {
  const char* dir = std::getenv("LABRACK_SOURCE_DIR");
  return dir != nullptr ? dir : "..";
}

class RecipeManifests : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("labrack-recipe-manifests-", getpid());
    fs::remove_all(dir_);
    std::string command = absl::StrCat("bash '", SourceDir(),
                                       "/images/check-recipes.sh' --write-manifests '",
                                       dir_.string(), "'");
    int status = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command;
  }
  void TearDown() override { fs::remove_all(dir_); }

  absl::StatusOr<v1::ImageManifest> Manifest(const std::string& recipe) {
    return LoadImageManifestFile((dir_ / recipe / "manifest.yaml").string());
  }

  fs::path dir_;
};

TEST_F(RecipeManifests, EveryRecipeWritesAManifestTheWorkerAccepts) {
  int recipes = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_)) {
    std::string recipe = entry.path().filename().string();
    SCOPED_TRACE(recipe);
    absl::StatusOr<v1::ImageManifest> manifest = Manifest(recipe);
    ASSERT_OK(manifest);
    EXPECT_EQ(manifest->name(), recipe);
    EXPECT_FALSE(manifest->roles().empty());
    for (const v1::ImageArtifact& artifact : manifest->artifacts()) {
      std::string path = (entry.path() / artifact.file()).string();
      absl::StatusOr<std::string> sha = Sha256OfFile(path);
      ASSERT_OK(sha);
      EXPECT_EQ(artifact.sha256(), *sha) << artifact.file();
      EXPECT_EQ(artifact.size_bytes(), fs::file_size(path)) << artifact.file();
    }
    ++recipes;
  }
  EXPECT_GT(recipes, 0);
}

TEST_F(RecipeManifests, EveryImageOfTheShippedTopologiesHasARecipeForTheNodesRole) {
  int nodes = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(SourceDir() + "/topologies")) {
    if (entry.path().extension() != ".yaml" || entry.path().stem() == "standard-items") continue;
    absl::StatusOr<v1::Topology> topology = LoadTopologyFile(entry.path().string());
    ASSERT_OK(topology);
    for (const v1::Node& node : topology->nodes()) {
      SCOPED_TRACE(absl::StrCat(entry.path().filename().string(), ": ", node.name()));
      absl::StatusOr<v1::ImageManifest> manifest = Manifest(node.image());
      ASSERT_OK(manifest) << "no recipe builds image " << node.image();
      EXPECT_THAT(manifest->roles(), ::testing::Contains(node.role()));
      ++nodes;
    }
  }
  EXPECT_GT(nodes, 0);
}

}  // namespace
}  // namespace labrack
