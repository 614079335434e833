// SqliteStore's warm pools: the assignment transaction (oldest READY of the current spec and
// topology version, replay by request id, no double hand-out under concurrency), the pool
// rows, and removal only once no idle sandbox is left.
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "controller/store/store_test_fixture.h"
#include "gmock/gmock.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class PoolStore : public StoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StoreTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(AddHost("h1", 1 << 20));
    v1::Pool pool;
    pool.set_name("class");
    pool.set_topology("web");
    pool.set_topology_version(1);
    pool.set_spec("spec-1");
    pool.set_size(4);
    ASSERT_OK(store_->CreatePool(pool));
  }

  // An idle sandbox of pool "class" built of `spec`, in `phase`, a second after the last.
  void AddMember(const std::string& id, v1::SandboxPhase phase, const std::string& spec = "spec-1") {
    Advance(absl::Seconds(1));
    v1::Sandbox s = NewSandbox(id);
    s.set_candidate("");
    s.set_pool("class");
    s.set_pool_spec(spec);
    ASSERT_OK(store_->CreateSandbox(s, WebTopology(), PlaceOn("h1")));
    ASSERT_OK(store_->UpdateSandbox(id, [&](v1::Sandbox& x) {
      x.set_phase(phase);
      return absl::OkStatus();
    }));
  }

  std::vector<std::string> IdleIds() {
    SandboxFilter filter;
    filter.pool = "class";
    absl::StatusOr<std::vector<v1::Sandbox>> idle = store_->ListSandboxes(filter);
    EXPECT_OK(idle);
    std::vector<std::string> ids;
    if (idle.ok()) {
      for (const v1::Sandbox& s : *idle) ids.push_back(s.sandbox_id());
    }
    return ids;
  }

  static PoolAssignment For(const std::string& candidate, const std::string& request_id = "") {
    return PoolAssignment{"class", candidate, {{"room", "a"}}, request_id, ""};
  }
};

TEST_F(PoolStore, AssignHandsOutTheOldestReadySandboxOfTheCurrentSpec) {
  AddMember("00000001", v1::SANDBOX_PHASE_PROVISIONING);
  AddMember("00000002", v1::SANDBOX_PHASE_READY, "spec-0");  // an older version
  AddMember("00000003", v1::SANDBOX_PHASE_READY);
  AddMember("00000004", v1::SANDBOX_PHASE_READY);

  absl::StatusOr<v1::Sandbox> got = store_->AssignFromPool(For("alice"));
  ASSERT_OK(got);
  EXPECT_EQ(got->sandbox_id(), "00000003");
  EXPECT_EQ(got->candidate(), "alice");
  EXPECT_EQ(got->pool(), "");
  EXPECT_EQ(got->assigned_from_pool(), "class");
  EXPECT_EQ(got->labels().at("room"), "a");
  EXPECT_EQ(got->phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_TRUE(got->has_assigned_at());
  // It left the pool, durably, and the pool counts it.
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(IdleIds(), (std::vector<std::string>{"00000001", "00000002", "00000004"}));
  EXPECT_THAT(store_->GetSandbox("00000003"),
              IsOkAndHolds(::testing::Property(&v1::Sandbox::candidate, "alice")));
  absl::StatusOr<v1::Pool> pool = store_->GetPool("class");
  ASSERT_OK(pool);
  EXPECT_EQ(pool->assigned(), 1u);
  SandboxFilter of_alice;
  of_alice.candidate = "alice";
  EXPECT_THAT(store_->ListSandboxes(of_alice), IsOkAndHolds(SizeIs(1)));
  // The assignment is an event of its own.
  absl::StatusOr<std::vector<v1::Event>> events = store_->ListEvents(0, "00000003", 0);
  ASSERT_OK(events);
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->back().kind(), v1::EVENT_KIND_POOL_ASSIGNED);
}

TEST_F(PoolStore, AssignWithoutAReadySandboxIsUnavailableAndChangesNothing) {
  AddMember("00000001", v1::SANDBOX_PHASE_PROVISIONING);
  AddMember("00000002", v1::SANDBOX_PHASE_READY, "spec-0");
  EXPECT_THAT(store_->AssignFromPool(For("alice")),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("2 are being built or replaced")));
  EXPECT_THAT(IdleIds(), SizeIs(2));
  EXPECT_THAT(store_->GetPool("class"),
              IsOkAndHolds(::testing::Property(&v1::Pool::assigned, 0u)));
  EXPECT_THAT(store_->AssignFromPool(PoolAssignment{"nope", "alice", {}, "", ""}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("pool 'nope'")));
}

TEST_F(PoolStore, ANewerTopologyVersionMakesReadySandboxesStaleAtOnce) {
  ASSERT_OK(store_->PutTopology(WebTopology(), Now()));  // version 1, as the members
  AddMember("00000001", v1::SANDBOX_PHASE_READY);
  v1::Topology changed = WebTopology();
  changed.set_description("version 2");
  ASSERT_OK(store_->PutTopology(changed, Now()));
  EXPECT_THAT(store_->AssignFromPool(For("alice")), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(PoolStore, ARepeatedAssignReturnsTheFirstSandboxAndTakesNoOther) {
  AddMember("00000001", v1::SANDBOX_PHASE_READY);
  AddMember("00000002", v1::SANDBOX_PHASE_READY);
  absl::StatusOr<v1::Sandbox> first = store_->AssignFromPool(For("alice", "req-1"));
  ASSERT_OK(first);
  absl::StatusOr<v1::Sandbox> again = store_->AssignFromPool(For("alice", "req-1"));
  ASSERT_OK(again);
  EXPECT_EQ(again->sandbox_id(), first->sandbox_id());
  EXPECT_THAT(IdleIds(), SizeIs(1));
  EXPECT_THAT(store_->AssignFromPool(For("bob", "req-1")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  EXPECT_THAT(IdleIds(), SizeIs(1));
  EXPECT_THAT(store_->GetPool("class"),
              IsOkAndHolds(::testing::Property(&v1::Pool::assigned, 1u)));
}

TEST_F(PoolStore, ConcurrentAssignsNeverHandOutASandboxTwice) {
  for (int i = 1; i <= 5; ++i) AddMember("0000000" + std::to_string(i), v1::SANDBOX_PHASE_READY);
  absl::Mutex mu;
  std::set<std::string> handed;
  int unavailable = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<v1::Sandbox> got = store_->AssignFromPool(For("c" + std::to_string(t)));
      absl::MutexLock lock(&mu);
      if (got.ok()) {
        handed.insert(got->sandbox_id());
      } else {
        EXPECT_THAT(got, StatusIs(absl::StatusCode::kUnavailable));
        ++unavailable;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(handed, SizeIs(5));
  EXPECT_EQ(unavailable, 3);
  EXPECT_THAT(IdleIds(), IsEmpty());
}

TEST_F(PoolStore, APoolIsRemovedOnlyWhenDeletingAndEmpty) {
  AddMember("00000001", v1::SANDBOX_PHASE_READY);
  EXPECT_THAT(store_->RemovePool("class"), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(store_->UpdatePool("class", [](v1::Pool& p) {
    p.set_deleting(true);
    return absl::OkStatus();
  }));
  EXPECT_THAT(store_->AssignFromPool(For("alice")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("being deleted")));
  EXPECT_THAT(store_->RemovePool("class"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("1 sandboxes")));
  ASSERT_OK(store_->UpdateSandbox("00000001", [](v1::Sandbox& s) {
    s.set_phase(v1::SANDBOX_PHASE_DESTROYED);
    return absl::OkStatus();
  }));
  ASSERT_OK(store_->RemovePool("class"));
  EXPECT_THAT(store_->GetPool("class"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->ListPools(), IsOkAndHolds(IsEmpty()));
  EXPECT_OK(store_->RemovePool("class"));  // twice is harmless
}

TEST_F(PoolStore, CreateRefusesANameInUseAndReplaysARequestId) {
  v1::Pool pool;
  pool.set_name("class");
  pool.set_topology("web");
  EXPECT_THAT(store_->CreatePool(pool),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("name: pool 'class' exists")));
  pool.set_name("other");
  pool.set_request_id("r1");
  ASSERT_OK(store_->CreatePool(pool));
  pool.set_name("third");
  EXPECT_THAT(store_->CreatePool(pool),
              IsOkAndHolds(::testing::Property(&v1::Pool::name, "other")));
  EXPECT_THAT(store_->ListPools(), IsOkAndHolds(SizeIs(2)));
}

}  // namespace
}  // namespace labrack::controller
