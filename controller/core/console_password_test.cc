// Console passwords: their form, their hash (checked with crypt(3) itself and by the
// worker's rule for what may reach a kernel command line), and that they do not repeat.
#include "controller/core/console_password.h"

#include <set>

#include "common/names.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack::controller {
namespace {

TEST(ConsolePassword, IsLongReadableAndHashedWithSha512Crypt) {
  absl::StatusOr<ConsolePassword> p = NewConsolePassword();
  ASSERT_OK(p);
  EXPECT_EQ(p->password.size(), static_cast<size_t>(kConsolePasswordLength));
  EXPECT_EQ(p->password.find_first_of("0O1lI"), std::string::npos) << p->password;
  EXPECT_EQ(p->hash.rfind("$6$", 0), 0u) << p->hash;
  EXPECT_OK(ValidatePasswordHash("hash", p->hash));
  EXPECT_TRUE(ConsolePasswordMatches(p->password, p->hash));
  EXPECT_FALSE(ConsolePasswordMatches(p->password + "x", p->hash));
  EXPECT_FALSE(ConsolePasswordMatches(p->password, "not a hash"));
}

TEST(ConsolePassword, NeverRepeatsAndNeitherDoesItsSalt) {
  std::set<std::string> passwords, hashes;
  for (int i = 0; i < 500; ++i) {
    absl::StatusOr<ConsolePassword> p = NewConsolePassword();
    ASSERT_OK(p);
    passwords.insert(p->password);
    hashes.insert(p->hash.substr(0, p->hash.rfind('$')));  // "$6$<salt>"
  }
  EXPECT_EQ(passwords.size(), 500u);
  EXPECT_EQ(hashes.size(), 500u);
}

}  // namespace
}  // namespace labrack::controller
