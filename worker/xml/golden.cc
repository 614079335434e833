// Golden files for generated XML (test helper). Tests only.
#include "worker/xml/golden.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace labrack::worker::testing {
namespace {

bool UpdateMode() {
  const char* update = std::getenv("LABRACK_UPDATE_GOLDEN");
  return update != nullptr && absl::string_view(update) == "1";
}

}  // namespace

std::string GoldenPath(absl::string_view name) {
  return absl::StrCat(LABRACK_XML_TESTDATA_DIR, "/", name);
}

std::string ReadGolden(absl::string_view name) {
  std::ifstream in(GoldenPath(name), std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << GoldenPath(name)
                  << " (create it with LABRACK_UPDATE_GOLDEN=1)";
    return "";
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void ExpectMatchesGolden(absl::string_view actual, absl::string_view name) {
  std::string path = GoldenPath(name);
  if (UpdateMode()) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << actual;
    ASSERT_TRUE(out.good()) << "cannot write " << path;
    std::cout << "updated golden file " << path << std::endl;
    return;
  }
  EXPECT_EQ(actual, ReadGolden(name))
      << "output differs from " << path
      << "; if the change is intended, rerun with LABRACK_UPDATE_GOLDEN=1 and review the diff";
}

}  // namespace labrack::worker::testing
