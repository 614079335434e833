// A host id is held by one live worker at a time on a machine.
#include "worker/host_id_lock.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class HostIdLockTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = labrack::testing::MakeTempDir("host-id-lock"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(HostIdLockTest, ASecondWorkerWithTheSameIdIsRefusedNamingTheHolderAndTheFlag) {
  auto first = HostIdLock::Acquire("vm", "/var/lib/labrack", dir_);
  ASSERT_OK(first);
  EXPECT_THAT(HostIdLock::Acquire("vm", "/srv/other", dir_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("host id vm"), HasSubstr("state folder /var/lib/labrack"),
                             HasSubstr("--host-id"))));
}

TEST_F(HostIdLockTest, AnotherIdIsFree) {
  auto first = HostIdLock::Acquire("vm", "/a", dir_);
  ASSERT_OK(first);
  EXPECT_OK(HostIdLock::Acquire("vm-2", "/b", dir_));
}

TEST_F(HostIdLockTest, TheIdIsFreeOnceItsWorkerIsGone) {
  {
    auto first = HostIdLock::Acquire("vm", "/a", dir_);
    ASSERT_OK(first);
  }
  EXPECT_OK(HostIdLock::Acquire("vm", "/b", dir_));
}

TEST_F(HostIdLockTest, AKilledWorkersLockIsFree) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    auto held = HostIdLock::Acquire("vm", "/a", dir_);
    char c = held.ok() ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1 || !held.ok()) _exit(1);
    pause();
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  close(ready[1]);
  ASSERT_EQ(c, 'y');
  EXPECT_THAT(HostIdLock::Acquire("vm", "/b", dir_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("pid ")));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_OK(HostIdLock::Acquire("vm", "/b", dir_));
}

}  // namespace
}  // namespace labrack::worker
