// A warm pool end to end, with real processes and guests: the pool fills to its size (the
// controller killed with SIGKILL while it fills, and started again, building nothing
// twice), an assignment hands a READY sandbox with running guests to a candidate at once,
// the pool refills behind it, a new topology version replaces the idle sandboxes but not
// the one handed out, and a deleted pool leaves nothing but the candidate's sandbox.
#include <signal.h>

#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster.h"
#include "tests/testing/status_matchers.h"

namespace labrack::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr uint32_t kSize = 2;

// A one-node topology: pools are about handing out, not about what is inside.
void WriteTopology(const std::string& path, const std::string& description) {
  std::ofstream out(path);
  out << "name: pool-lab\n"
      << "description: \"" << description << "\"\n"
      << "networks:\n  - name: lan\n    cidr: 10.20.0.0/24\n"
      << "nodes:\n  - name: server\n    role: server\n    image: tiny\n    vcpus: 1\n"
      << "    memory_mib: 128\n    nics:\n      - network: lan\n";
}

class PoolE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.Start();
    if (HasFatalFailure()) GTEST_SKIP() << "the cluster did not start";
    topology_ = cluster_.dir() + "/pool-lab.yaml";
    WriteTopology(topology_, "version one");
    CommandResult applied = cluster_.Ctl({"topology", "apply", topology_});
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
  }
  void TearDown() override { cluster_.Stop(); }

  absl::StatusOr<v1::Pool> GetPool(const std::string& name) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetPoolRequest req;
    req.set_name(name);
    v1::Pool out;
    RETURN_IF_ERROR(FromGrpc(cluster_.stub().GetPool(&ctx, req, &out)));
    return out;
  }

  // Polls until `done` holds for the pool; the last state seen.
  template <typename Pred>
  v1::Pool WaitPool(const std::string& name, Pred done, absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    v1::Pool last;
    while (absl::Now() < deadline) {
      absl::StatusOr<v1::Pool> now = GetPool(name);
      if (now.ok()) {
        last = *now;
        if (done(last)) return last;
      }
      absl::SleepFor(absl::Milliseconds(500));
    }
    return last;
  }

  std::vector<v1::Sandbox> Idle(const std::string& pool) {
    grpc::ClientContext ctx;
    v1::ListSandboxesRequest req;
    req.set_pool(pool);
    v1::ListSandboxesResponse out;
    EXPECT_OK(FromGrpc(cluster_.stub().ListSandboxes(&ctx, req, &out)));
    return {out.sandboxes().begin(), out.sandboxes().end()};
  }

  absl::StatusOr<v1::Sandbox> Assign(const std::string& candidate, const std::string& request_id) {
    grpc::ClientContext ctx;
    v1::AssignFromPoolRequest req;
    req.set_pool("class");
    req.set_candidate(candidate);
    req.set_request_id(request_id);
    v1::Sandbox out;
    RETURN_IF_ERROR(FromGrpc(cluster_.stub().AssignFromPool(&ctx, req, &out)));
    return out;
  }

  Cluster cluster_{ClusterOptions{.workers = 1}};
  std::string topology_;
};

TEST_F(PoolE2e, AssignsAtOnceRefillsAndReplacesOnlyIdleSandboxesOnANewVersion) {
  CommandResult created = cluster_.Ctl(
      {"pool", "create", "--name", "class", "--topology", "pool-lab", "--size", "2"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_THAT(created.out, HasSubstr("pool-lab@1"));

  // The controller killed while the pool fills: started again, it fills the pool without
  // building a sandbox twice.
  absl::Time deadline = absl::Now() + absl::Minutes(2);
  while (absl::Now() < deadline && cluster_.SandboxesOnHost(0).empty()) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  cluster_.StopController(SIGKILL);
  cluster_.StartController();

  auto full = [](const v1::Pool& p) { return p.ready() == kSize; };
  v1::Pool filled = WaitPool("class", full, absl::Minutes(4));
  ASSERT_EQ(filled.ready(), kSize) << filled.message() << "\n" << cluster_.LogTails();
  EXPECT_EQ(Idle("class").size(), kSize);
  EXPECT_EQ(cluster_.SandboxesOnHost(0).size(), kSize) << "a sandbox was built twice";

  // Assignment: a READY sandbox whose guests run, handed over without provisioning.
  CommandResult assigned = cluster_.Ctl(
      {"-o", "json", "pool", "assign", "class", "--candidate", "alice", "--request-id", "assign-alice"});
  ASSERT_EQ(assigned.exit_code, 0) << assigned.err;
  v1::Sandbox mine;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(assigned.out, &mine).ok()) << assigned.out;
  EXPECT_EQ(mine.phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(mine.candidate(), "alice");
  EXPECT_EQ(mine.assigned_from_pool(), "class");
  EXPECT_FALSE(mine.console_password().empty()) << "the candidate needs the console password";
  std::vector<std::string> on_host = cluster_.SandboxesOnHost(0);
  EXPECT_NE(std::find(on_host.begin(), on_host.end(), mine.sandbox_id()), on_host.end());
  absl::StatusOr<v1::Sandbox> again = Assign("alice", "assign-alice");
  ASSERT_OK(again);
  EXPECT_EQ(again->sandbox_id(), mine.sandbox_id()) << "a retried assign takes no second sandbox";
  for (const v1::Sandbox& s : Idle("class")) EXPECT_NE(s.sandbox_id(), mine.sandbox_id());

  // Refill back to size, alice's sandbox not counted.
  v1::Pool refilled = WaitPool(
      "class", [](const v1::Pool& p) { return p.ready() == kSize && p.assigned() == 1; },
      absl::Minutes(4));
  ASSERT_EQ(refilled.ready(), kSize) << refilled.message() << "\n" << cluster_.LogTails();
  std::set<std::string> old_idle;
  for (const v1::Sandbox& s : Idle("class")) old_idle.insert(s.sandbox_id());
  ASSERT_EQ(old_idle.size(), kSize);

  // A new topology version: the idle sandboxes are replaced, alice's is not touched.
  WriteTopology(topology_, "version two");
  CommandResult applied = cluster_.Ctl({"topology", "apply", topology_});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  v1::Pool replaced = WaitPool(
      "class",
      [](const v1::Pool& p) {
        return p.topology_version() == 2 && p.ready() == kSize && p.replacing() == 0;
      },
      absl::Minutes(4));
  ASSERT_EQ(replaced.topology_version(), 2u) << replaced.message();
  ASSERT_EQ(replaced.ready(), kSize) << replaced.message() << "\n" << cluster_.LogTails();
  for (const v1::Sandbox& s : Idle("class")) {
    EXPECT_EQ(old_idle.count(s.sandbox_id()), 0u) << s.sandbox_id() << " was not replaced";
    EXPECT_EQ(s.topology_version(), 2u);
  }
  for (const std::string& id : old_idle) {
    absl::StatusOr<v1::Sandbox> gone = cluster_.WaitForPhase(id, v1::SANDBOX_PHASE_DESTROYED,
                                                             absl::Minutes(2));
    ASSERT_OK(gone);
    EXPECT_EQ(gone->phase(), v1::SANDBOX_PHASE_DESTROYED) << id;
  }
  absl::StatusOr<v1::Sandbox> kept = cluster_.GetSandbox(mine.sandbox_id());
  ASSERT_OK(kept);
  EXPECT_EQ(kept->phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(kept->generation(), mine.generation());
  EXPECT_EQ(kept->topology_version(), 1u);
  on_host = cluster_.SandboxesOnHost(0);
  EXPECT_NE(std::find(on_host.begin(), on_host.end(), mine.sandbox_id()), on_host.end());

  // Deleting the pool destroys the idle sandboxes and keeps alice's.
  CommandResult deleted = cluster_.Ctl({"pool", "delete", "class"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  deadline = absl::Now() + absl::Minutes(2);
  while (absl::Now() < deadline && GetPool("class").ok()) absl::SleepFor(absl::Milliseconds(500));
  EXPECT_THAT(GetPool("class"), ::labrack::testing::StatusIs(absl::StatusCode::kNotFound));
  on_host = cluster_.SandboxesOnHost(0);
  EXPECT_EQ(on_host, std::vector<std::string>{mine.sandbox_id()});
  CommandResult destroyed = cluster_.Ctl({"sandbox", "destroy", mine.sandbox_id(), "--wait"});
  EXPECT_EQ(destroyed.exit_code, 0) << destroyed.err;
  EXPECT_THAT(cluster_.Leftovers(), IsEmpty());
}

}  // namespace
}  // namespace labrack::e2e
