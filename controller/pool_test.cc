// Warm pools in-process (controller_test_fixture.h): fill to size, assignment of a READY
// sandbox and the refill behind it, replacement of idle sandboxes (never assigned ones)
// when an image is imported anew, a refill that waits for room, deletion, and bad input.
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "controller/controller_test_fixture.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PoolTest : public ControllerTest {
 protected:
  absl::StatusOr<v1::Pool> CreatePool(const std::string& name, uint32_t size) {
    v1::CreatePoolRequest req;
    req.set_name(name);
    req.set_topology("mini");
    req.set_size(size);
    v1::Pool out;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::CreatePool, req, &out));
    return out;
  }
  absl::StatusOr<v1::Pool> GetPool(const std::string& name) {
    v1::GetPoolRequest req;
    req.set_name(name);
    v1::Pool out;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::GetPool, req, &out));
    return out;
  }
  absl::StatusOr<v1::Sandbox> Assign(const std::string& pool, const std::string& candidate,
                                     const std::string& request_id = "") {
    v1::AssignFromPoolRequest req;
    req.set_pool(pool);
    req.set_candidate(candidate);
    req.set_request_id(request_id);
    (*req.mutable_labels())["seat"] = "12";
    v1::Sandbox out;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::AssignFromPool, req, &out));
    return out;
  }
  std::set<std::string> Idle(const std::string& pool) {
    v1::ListSandboxesRequest req;
    req.set_pool(pool);
    v1::ListSandboxesResponse out;
    EXPECT_OK(Call(&v1::LabController::Stub::ListSandboxes, req, &out));
    std::set<std::string> ids;
    for (const v1::Sandbox& s : out.sandboxes()) ids.insert(s.sandbox_id());
    return ids;
  }
  bool PoolReaches(const std::string& name, const std::function<bool(const v1::Pool&)>& done) {
    return Eventually([&] {
      absl::StatusOr<v1::Pool> p = GetPool(name);
      return p.ok() && done(*p);
    }, absl::Seconds(30));
  }
  std::vector<v1::Sandbox> AllSandboxes() {
    v1::ListSandboxesRequest req;
    v1::ListSandboxesResponse out;
    EXPECT_OK(Call(&v1::LabController::Stub::ListSandboxes, req, &out));
    return {out.sandboxes().begin(), out.sandboxes().end()};
  }
};

TEST_F(PoolTest, AnAssignedSandboxIsReadyAtOnceAndThePoolRefillsBehindIt) {
  ASSERT_OK(CreatePool("class", 2));
  ASSERT_TRUE(PoolReaches("class", [](const v1::Pool& p) { return p.ready() == 2; }));
  const std::set<std::string> idle = Idle("class");
  ASSERT_EQ(idle.size(), 2u);

  absl::StatusOr<v1::Sandbox> got = Assign("class", "alice", "seat-12");
  ASSERT_OK(got);
  EXPECT_EQ(got->phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(got->candidate(), "alice");
  EXPECT_EQ(got->labels().at("seat"), "12");
  EXPECT_EQ(got->labels().at("labrack.pool"), "class");
  EXPECT_EQ(got->assigned_from_pool(), "class");
  EXPECT_TRUE(idle.contains(got->sandbox_id()));
  EXPECT_FALSE(got->console_password().empty());
  for (const v1::NodeStatus& n : got->nodes()) EXPECT_EQ(n.phase(), v1::NODE_PHASE_READY);
  // The same request again: the same sandbox, none other taken.
  absl::StatusOr<v1::Sandbox> again = Assign("class", "alice", "seat-12");
  ASSERT_OK(again);
  EXPECT_EQ(again->sandbox_id(), got->sandbox_id());
  EXPECT_FALSE(Idle("class").contains(got->sandbox_id()));

  ASSERT_TRUE(PoolReaches("class", [](const v1::Pool& p) {
    return p.ready() == 2 && p.building() == 0 && p.assigned() == 1;
  }));
  EXPECT_EQ(AllSandboxes().size(), 3u);
  EXPECT_EQ(Get(got->sandbox_id()).phase(), v1::SANDBOX_PHASE_READY);
}

TEST_F(PoolTest, ANewImageReplacesIdleSandboxesAndLeavesAssignedOnes) {
  ASSERT_OK(CreatePool("class", 2));
  ASSERT_TRUE(PoolReaches("class", [](const v1::Pool& p) { return p.ready() == 2; }));
  absl::StatusOr<v1::Sandbox> mine = Assign("class", "alice");
  ASSERT_OK(mine);
  ASSERT_TRUE(PoolReaches("class", [](const v1::Pool& p) { return p.ready() == 2; }));
  const std::set<std::string> old_idle = Idle("class");
  const std::string old_spec = GetPool("class")->spec();

  // The same image name with other bytes: a new version of "tiny".
  v1::ImageManifest newer =
      labrack::testing::WriteFakeImage(root_ + "/image-2", "tiny", 128ull << 20);
  ASSERT_OK(Import(newer, root_ + "/image-2"));
  ASSERT_TRUE(PoolReaches("class", [&](const v1::Pool& p) {
    return p.spec() != old_spec && p.ready() == 2 && p.replacing() == 0;
  })) << GetPool("class")->message();
  for (const std::string& id : Idle("class")) EXPECT_FALSE(old_idle.contains(id)) << id;
  for (const std::string& id : old_idle) {
    EXPECT_TRUE(Eventually([&] { return Get(id).phase() == v1::SANDBOX_PHASE_DESTROYED; })) << id;
  }
  v1::Sandbox kept = Get(mine->sandbox_id());
  EXPECT_EQ(kept.phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(kept.generation(), mine->generation());
  EXPECT_EQ(kept.candidate(), "alice");
}

TEST_F(PoolTest, ARefillWithoutRoomWaitsAndSaysSoAndDeleteLeavesOnlyAssignedSandboxes) {
  ASSERT_OK(CreatePool("big", 200));
  ASSERT_TRUE(PoolReaches("big", [](const v1::Pool& p) {
    return absl::StrContains(p.message(), "wait for room") && p.ready() > 0 && p.building() == 0;
  })) << GetPool("big")->message();
  absl::StatusOr<v1::Pool> big = GetPool("big");
  ASSERT_OK(big);
  EXPECT_LT(big->ready(), 200u);
  EXPECT_THAT(big->message(), HasSubstr("no host"));
  absl::StatusOr<v1::Sandbox> mine = Assign("big", "alice");
  ASSERT_OK(mine);

  v1::DeletePoolRequest del;
  del.set_name("big");
  v1::Pool deleting;
  ASSERT_OK(Call(&v1::LabController::Stub::DeletePool, del, &deleting));
  EXPECT_TRUE(deleting.deleting());
  EXPECT_THAT(Assign("big", "bob"), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_TRUE(Eventually([&] { return absl::IsNotFound(GetPool("big").status()); }));
  std::vector<v1::Sandbox> left = AllSandboxes();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].sandbox_id(), mine->sandbox_id());
  EXPECT_EQ(left[0].phase(), v1::SANDBOX_PHASE_READY);
}

TEST_F(PoolTest, ASessionDrawsReadySandboxesFromAPoolAndBuildsTheRest) {
  // The host holds four sandboxes of mini: one idle, two for the session, one refill.
  ASSERT_OK(CreatePool("class", 1));
  ASSERT_TRUE(PoolReaches("class", [](const v1::Pool& p) { return p.ready() == 1; }));
  const std::set<std::string> idle = Idle("class");

  v1::CreateSessionRequest req;
  req.set_name("exam");
  req.set_topology("mini");
  req.set_pool("class");
  for (const char* c : {"c1", "c2"}) req.add_candidates(c);
  req.set_duration_seconds(3600);
  v1::Session session;
  ASSERT_OK(Call(&v1::LabController::Stub::CreateSession, req, &session));
  EXPECT_EQ(session.pool(), "class");
  ASSERT_EQ(session.candidates_size(), 2);
  int drawn = 0;
  for (const v1::SessionCandidate& c : session.candidates()) {
    v1::Sandbox s = Get(c.sandbox_id());
    EXPECT_EQ(s.candidate(), c.candidate());
    EXPECT_EQ(s.session_id(), session.session_id());
    EXPECT_EQ(s.expires_at(), session.end_time());
    if (idle.contains(c.sandbox_id())) {
      ++drawn;
      EXPECT_EQ(s.phase(), v1::SANDBOX_PHASE_READY) << "a drawn sandbox needs no provisioning";
      EXPECT_EQ(s.assigned_from_pool(), "class");
    }
  }
  EXPECT_EQ(drawn, 1);
  EXPECT_TRUE(Eventually([&] { return GetSession("exam").phase() == v1::SESSION_PHASE_READY; }));
  ASSERT_TRUE(PoolReaches("class", [](const v1::Pool& p) {
    return p.ready() == 1 && p.assigned() == 1;
  })) << GetPool("class")->ShortDebugString();
  for (const std::string& id : Idle("class")) EXPECT_FALSE(idle.contains(id));

  // A pool of another topology cannot feed a session.
  auto other = ParseTopologyYaml(absl::StrReplaceAll(kTopology, {{"name: mini", "name: other"}}),
                                 "other.yaml");
  ASSERT_OK(other);
  v1::ApplyTopologyRequest apply;
  *apply.mutable_topology() = *other;
  v1::TopologyRecord record;
  ASSERT_OK(Call(&v1::LabController::Stub::ApplyTopology, apply, &record));
  req.set_name("exam-2");
  req.set_topology("other");
  EXPECT_THAT(Call(&v1::LabController::Stub::CreateSession, req, &session),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pool: pool 'class' holds")));
  req.set_pool("nope");
  EXPECT_THAT(Call(&v1::LabController::Stub::CreateSession, req, &session),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("pool 'nope'")));
}

TEST_F(PoolTest, BadRequestsAreRefusedNamingTheFieldAndCreateNothing) {
  EXPECT_THAT(CreatePool("class", 0), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("size: 1 to 200")));
  EXPECT_THAT(CreatePool("class", 201), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("size")));
  EXPECT_THAT(CreatePool("../etc", 1), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")));
  v1::CreatePoolRequest unknown;
  unknown.set_name("x");
  unknown.set_topology("nope");
  unknown.set_size(1);
  v1::Pool out;
  EXPECT_THAT(Call(&v1::LabController::Stub::CreatePool, unknown, &out),
              StatusIs(absl::StatusCode::kNotFound));
  v1::ListPoolsResponse pools;
  ASSERT_OK(Call(&v1::LabController::Stub::ListPools, v1::ListPoolsRequest(), &pools));
  EXPECT_EQ(pools.pools_size(), 0);

  ASSERT_OK(CreatePool("class", 1));
  EXPECT_THAT(CreatePool("class", 1), StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("name")));
  EXPECT_THAT(Assign("nope", "alice"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("pool 'nope'")));
  EXPECT_THAT(Assign("class", "al ice"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("candidate")));
  EXPECT_THAT(Assign("class", "alice", "bad id!"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
}

}  // namespace
}  // namespace labrack::controller
