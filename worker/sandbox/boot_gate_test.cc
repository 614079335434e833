#include "worker/sandbox/boot_gate.h"

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace labrack::worker {
namespace {

// Runs Acquire(n) on a thread; `done` turns true once it returns.
struct Waiter {
  Waiter(BootGate& gate, int n, std::atomic<bool>* cancel = nullptr)
      : thread([&gate, n, cancel, this] {
          got = gate.Acquire(n, [cancel] { return cancel != nullptr && cancel->load(); });
          done = true;
        }) {}
  ~Waiter() { thread.join(); }
  std::atomic<bool> done{false};
  std::atomic<bool> got{false};
  std::thread thread;
};

bool Becomes(const std::atomic<bool>& flag) {
  for (int i = 0; i < 200 && !flag; ++i) absl::SleepFor(absl::Milliseconds(10));
  return flag;
}

TEST(BootGate, WaitersGoInTurnAndOnlyWhenTheirSlotsAreFree) {
  BootGate gate(3);
  ASSERT_TRUE(gate.Acquire(2, nullptr));
  Waiter second(gate, 2);
  absl::SleepFor(absl::Milliseconds(50));
  Waiter third(gate, 1);  // one slot is free, but the second came first
  absl::SleepFor(absl::Milliseconds(150));
  EXPECT_FALSE(second.done);
  EXPECT_FALSE(third.done) << "overtook an older waiter";
  EXPECT_EQ(gate.waiting(), 2);
  gate.Release(2);
  EXPECT_TRUE(Becomes(second.done));
  EXPECT_TRUE(Becomes(third.done));
  EXPECT_TRUE(second.got && third.got);
  EXPECT_EQ(gate.in_use(), 3);
}

TEST(BootGate, ARequestLargerThanTheGateRunsAlone) {
  BootGate gate(2);
  ASSERT_TRUE(gate.Acquire(1, nullptr));
  Waiter big(gate, 5);
  absl::SleepFor(absl::Milliseconds(150));
  EXPECT_FALSE(big.done);
  gate.Release(1);
  EXPECT_TRUE(Becomes(big.done));
  EXPECT_EQ(gate.in_use(), 2);
}

TEST(BootGate, ACancelledWaiterGivesUpItsTurn) {
  BootGate gate(1);
  ASSERT_TRUE(gate.Acquire(1, nullptr));
  std::atomic<bool> cancel{false};
  Waiter cancelled(gate, 1, &cancel);
  absl::SleepFor(absl::Milliseconds(50));
  Waiter next(gate, 1);
  absl::SleepFor(absl::Milliseconds(50));
  cancel = true;
  EXPECT_TRUE(Becomes(cancelled.done));
  EXPECT_FALSE(cancelled.got);
  gate.Release(1);
  EXPECT_TRUE(Becomes(next.done)) << "the cancelled turn held the queue up";
  EXPECT_TRUE(next.got);
}

TEST(BootGate, DefaultsFollowTheCpus) {
  EXPECT_EQ(DefaultBootSlots(2, false), 6);
  EXPECT_EQ(DefaultBootSlots(2, true), 16);
  EXPECT_EQ(DefaultBootSlots(0, false), 3);
}

}  // namespace
}  // namespace labrack::worker
