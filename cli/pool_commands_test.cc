// `labrackctl pool ...` run in-process (RunCli with string streams) against an in-memory
// LabController that serves only the pool RPCs: requests sent, retries, flag checks, exit
// codes and what people read.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cli/create_retry.h"
#include "cli/exit_codes.h"
#include "cli/testing/cli_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labrack::cli::testing {
namespace {

using ::grpc::ServerContext;
using ::grpc::Status;
using ::grpc::StatusCode;
using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

constexpr char kUuid[] = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";

// A pool of "lab" that is filling: 3 of 5 READY, one building, one being replaced.
constexpr char kFilling[] = R"pb(
  name: "web"
  topology: "lab"
  topology_version: 3
  image_overrides { key: "debian-server" value: "tiny" }
  size: 5
  spec: "0123456789abcdef0123456789abcdef"
  assigned: 12
  request_id: "web-try-1"
  created_at { seconds: 1700000000 }
  updated_at { seconds: 1700000600 }
  ready: 3
  building: 1
  replacing: 1)pb";

// The READY sandbox the pool "web" hands out first.
constexpr char kIdle[] = R"pb(
  sandbox_id: "9009aaaa-0000-4000-8000-000000000001"
  topology: "lab"
  topology_version: 3
  host_id: "host-a"
  phase: SANDBOX_PHASE_READY
  generation: 1
  pool: "web"
  nodes { name: "server" phase: NODE_PHASE_READY addresses: "10.10.0.1/24" }
  nodes { name: "client" phase: NODE_PHASE_READY addresses: "10.10.0.2/24" })pb";

// Pools in a map; AssignFromPool hands out sandboxes added with AddIdle and answers a
// repeated request_id with the sandbox it handed out first, as labrack-controller does.
class FakePools : public v1::LabController::Service {
 public:
  Status CreatePool(ServerContext*, const v1::CreatePoolRequest* req, v1::Pool* resp) override {
    absl::MutexLock lock(&mu_);
    creates_.push_back(*req);
    auto it = pools_.find(req->name());
    if (it != pools_.end() && it->second.request_id() != req->request_id()) {
      return Status(StatusCode::ALREADY_EXISTS, absl::StrCat("pool ", req->name(), " exists"));
    }
    if (it == pools_.end()) {
      v1::Pool& p = pools_[req->name()];
      p.set_name(req->name());
      p.set_topology(req->topology());
      *p.mutable_image_overrides() = req->image_overrides();
      p.set_size(req->size());
      p.set_topology_version(1);
      p.set_spec(std::string(64, 'e'));
      p.set_request_id(req->request_id());
      p.set_building(req->size());
      p.set_message("");
    }
    return Answer(pools_[req->name()], resp);
  }

  Status GetPool(ServerContext*, const v1::GetPoolRequest* req, v1::Pool* resp) override {
    absl::MutexLock lock(&mu_);
    auto it = pools_.find(req->name());
    if (it == pools_.end()) return NotFound(req->name());
    *resp = it->second;
    return Status::OK;
  }

  Status ListPools(ServerContext*, const v1::ListPoolsRequest*,
                   v1::ListPoolsResponse* resp) override {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, pool] : pools_) *resp->add_pools() = pool;
    return Status::OK;
  }

  Status DeletePool(ServerContext*, const v1::DeletePoolRequest* req, v1::Pool* resp) override {
    absl::MutexLock lock(&mu_);
    auto it = pools_.find(req->name());
    if (it == pools_.end()) return NotFound(req->name());
    it->second.set_deleting(true);
    *resp = it->second;
    return Status::OK;
  }

  Status AssignFromPool(ServerContext*, const v1::AssignFromPoolRequest* req,
                        v1::Sandbox* resp) override {
    absl::MutexLock lock(&mu_);
    assigns_.push_back(*req);
    if (auto done = handed_out_.find(req->request_id()); done != handed_out_.end()) {
      *resp = done->second;
      return Status::OK;
    }
    auto it = pools_.find(req->pool());
    if (it == pools_.end()) return NotFound(req->pool());
    if (idle_.empty()) {
      return Status(StatusCode::UNAVAILABLE,
                    absl::StrCat("pool ", req->pool(), " has no READY sandbox (",
                                 it->second.building(), " being built); try again later"));
    }
    v1::Sandbox s = idle_.front();
    idle_.erase(idle_.begin());
    s.clear_pool();
    s.set_candidate(req->candidate());
    *s.mutable_labels() = req->labels();
    s.set_assigned_from_pool(req->pool());
    s.set_assign_request_id(req->request_id());
    s.set_console_password("quiet-otter-42");
    it->second.set_assigned(it->second.assigned() + 1);
    handed_out_[req->request_id()] = s;
    return Answer(s, resp);
  }

  // The next `n` CreatePool and AssignFromPool calls do their work, but the answer is lost:
  // the client sees UNAVAILABLE.
  void LoseNextAnswers(int n) {
    absl::MutexLock lock(&mu_);
    lose_answers_ = n;
  }

  absl::Mutex mu_;
  std::map<std::string, v1::Pool> pools_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Sandbox> idle_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Sandbox> handed_out_ ABSL_GUARDED_BY(mu_);  // by request_id
  std::vector<v1::CreatePoolRequest> creates_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::AssignFromPoolRequest> assigns_ ABSL_GUARDED_BY(mu_);
  int lose_answers_ ABSL_GUARDED_BY(mu_) = 0;

 private:
  template <typename T>
  Status Answer(const T& made, T* resp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (lose_answers_ > 0) {
      --lose_answers_;
      return Status(StatusCode::UNAVAILABLE, "connection reset by peer");
    }
    *resp = made;
    return Status::OK;
  }

  static Status NotFound(const std::string& name) {
    return Status(StatusCode::NOT_FOUND, absl::StrCat("pool '", name, "' not found"));
  }
};

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_ != nullptr && port_ != 0);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }

  // labrackctl --server <fake> args...
  CliResult Run(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"--server", absl::StrCat("127.0.0.1:", port_)};
    full.insert(full.end(), args.begin(), args.end());
    return RunArgs(full);
  }

  // pool create --name web --topology lab --size 5, then `more`.
  std::vector<std::string> CreateArgs(const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"pool",       "create", "--name", "web",
                                     "--topology", "lab",    "--size", "5"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  void AddPool(const std::string& text) {
    v1::Pool pool = ParseText<v1::Pool>(text);
    absl::MutexLock lock(&fake_.mu_);
    fake_.pools_[pool.name()] = pool;
  }

  void AddIdle(const std::string& text) {
    absl::MutexLock lock(&fake_.mu_);
    fake_.idle_.push_back(ParseText<v1::Sandbox>(text));
  }

  std::vector<v1::CreatePoolRequest> Creates() {
    absl::MutexLock lock(&fake_.mu_);
    return fake_.creates_;
  }

  std::vector<v1::AssignFromPoolRequest> Assigns() {
    absl::MutexLock lock(&fake_.mu_);
    return fake_.assigns_;
  }

  size_t HandedOut() {
    absl::MutexLock lock(&fake_.mu_);
    return fake_.handed_out_.size();
  }

  FakePools fake_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// --- create ---

TEST_F(PoolTest, CreateSendsNameTopologySizeOverridesAndRequestIdThenPrintsThePool) {
  CliResult r =
      Run(CreateArgs({"--image-override", "debian-server=tiny", "--request-id", "web-try-1"}));
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<v1::CreatePoolRequest> sent = Creates();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].name(), "web");
  EXPECT_EQ(sent[0].topology(), "lab");
  EXPECT_EQ(sent[0].size(), 5u);
  EXPECT_THAT(sent[0].image_overrides(), ElementsAre(Pair("debian-server", "tiny")));
  EXPECT_EQ(sent[0].request_id(), "web-try-1");
  EXPECT_THAT(r.out, ContainsRegex("Pool: +web\n"));
  EXPECT_THAT(r.out, ContainsRegex("State: +FILLING\n"));
  EXPECT_THAT(r.out, ContainsRegex("Idle: +0 ready, 5 building, 0 replacing\n"));
}

TEST_F(PoolTest, CreateSendsARandomRequestIdByDefault) {
  ASSERT_EQ(Run(CreateArgs()).code, kExitOk);
  ASSERT_EQ(Creates().size(), 1u);
  EXPECT_THAT(Creates()[0].request_id(), ContainsRegex(kUuid));
}

TEST_F(PoolTest, CreateRetriesALostAnswerWithTheSameRequestIdAndMakesOnePool) {
  fake_.LoseNextAnswers(1);
  CliResult r = Run(CreateArgs());
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<v1::CreatePoolRequest> sent = Creates();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].request_id(), sent[1].request_id());
  EXPECT_THAT(r.err, HasSubstr("retrying with the same request id"));
  EXPECT_THAT(r.out, ContainsRegex("Pool: +web\n"));
}

TEST_F(PoolTest, ASizeOutsideOneToTwoHundredIsAUsageErrorNamingFlagAndRule) {
  for (const std::string size : {"0", "201", "-1", "five"}) {
    std::vector<std::string> args = CreateArgs();
    args.back() = size;
    CliResult r = Run(args);
    EXPECT_EQ(r.code, kExitUsage) << size;
    EXPECT_THAT(
        r.err, AllOf(HasSubstr("--size"), HasSubstr("'" + size + "'"), HasSubstr("from 1 to 200")));
  }
  std::vector<std::string> edge = CreateArgs();
  edge.back() = "200";
  EXPECT_EQ(Run(edge).code, kExitOk);
  EXPECT_EQ(Creates().size(), 1u);  // only the valid one was sent
}

TEST_F(PoolTest, ABadPoolNameIsAUsageErrorNamingFlagAndRule) {
  for (const std::string& name : std::vector<std::string>{"Web", "web_1", std::string(64, 'a')}) {
    std::vector<std::string> args = CreateArgs();
    args[3] = name;
    CliResult r = Run(args);
    EXPECT_EQ(r.code, kExitUsage) << name;
    EXPECT_THAT(r.err, AllOf(HasSubstr("--name"), HasSubstr("1 to 63 characters of a-z, 0-9")));
  }
  EXPECT_TRUE(Creates().empty());
}

TEST_F(PoolTest, NameTopologyAndSizeAreRequired) {
  for (const std::string flag : {"--name", "--topology", "--size"}) {
    std::vector<std::string> all = CreateArgs();
    std::vector<std::string> args = {"pool", "create"};
    for (size_t i = 2; i < all.size(); i += 2) {
      if (all[i] != flag) args.insert(args.end(), {all[i], all[i + 1]});
    }
    CliResult r = Run(args);
    EXPECT_EQ(r.code, kExitUsage) << flag;
    EXPECT_THAT(r.err, HasSubstr(flag + " is required"));
  }
  EXPECT_TRUE(Creates().empty());
}

TEST_F(PoolTest, CreatingANameInUseExitsFour) {
  AddPool(kFilling);
  CliResult r = Run(CreateArgs());
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.err, "error: pool web exists\n");
}

// --- get, list, delete ---

TEST_F(PoolTest, GetShowsCountsTopologyVersionAndAShortSpec) {
  AddPool(kFilling);
  CliResult r = Run({"pool", "get", "web"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("^Pool: +web\n"));
  EXPECT_THAT(r.out, ContainsRegex("State: +FILLING\n"));
  EXPECT_THAT(r.out, ContainsRegex("Topology: +lab@3\n"));
  EXPECT_THAT(r.out, ContainsRegex("Overrides: +debian-server=tiny\n"));
  EXPECT_THAT(r.out, ContainsRegex("Size: +5\n"));
  EXPECT_THAT(r.out, ContainsRegex("Idle: +3 ready, 1 building, 1 replacing\n"));
  EXPECT_THAT(r.out, ContainsRegex("Assigned: +12\n"));
  EXPECT_THAT(r.out, ContainsRegex("Spec: +0123456789ab\n"));
  EXPECT_THAT(r.out, ContainsRegex("Request id: +web-try-1\n"));
  EXPECT_THAT(r.out, ContainsRegex("Created: +2023-11-14 22:13:20 UTC"));
  EXPECT_THAT(r.out, Not(HasSubstr("Message:")));
}

TEST_F(PoolTest, GetShowsWhatTheRefillWaitsFor) {
  AddPool(absl::StrCat(kFilling, " message: \"no host has room for 2 vCPU\""));
  CliResult r = Run({"pool", "get", "web"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("State: +WAITING\nMessage: +no host has room for 2 vCPU\n"));
}

TEST_F(PoolTest, GetOfAnUnknownPoolExitsThree) {
  CliResult r = Run({"pool", "get", "nope"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err, "error: pool 'nope' not found\n");
}

TEST_F(PoolTest, ListShowsOnePoolALineWithItsState) {
  AddPool(kFilling);
  AddPool(R"pb(name: "db" topology: "lab" topology_version: 1 size: 2 ready: 2 assigned: 4)pb");
  AddPool(R"pb(name: "old" topology: "lab" topology_version: 2 size: 3 deleting: true)pb");
  AddPool(R"pb(name: "stuck" topology: "lab" topology_version: 1 size: 1 message: "no room")pb");
  CliResult r = Run({"pool", "list"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("^NAME +TOPOLOGY +SIZE +READY +BUILDING +REPLACING +ASSIGNED "
                                   "+STATE\n"));
  EXPECT_THAT(r.out, ContainsRegex("\ndb +lab@1 +2 +2 +0 +0 +4 +FULL\n"));
  EXPECT_THAT(r.out, ContainsRegex("\nold +lab@2 +3 +0 +0 +0 +0 +DELETING\n"));
  EXPECT_THAT(r.out, ContainsRegex("\nstuck +lab@1 +1 +0 +0 +0 +0 +WAITING\n"));
  EXPECT_THAT(r.out, ContainsRegex("\nweb +lab@3 +5 +3 +1 +1 +12 +FILLING\n"));
}

TEST_F(PoolTest, ListAsJsonIsTheResponse) {
  AddPool(kFilling);
  CliResult r = Run({"-o", "json", "pool", "list"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  v1::ListPoolsResponse resp;
  ASSERT_TRUE(ParseJson(r.out, &resp)) << r.out;
  ASSERT_EQ(resp.pools_size(), 1);
  EXPECT_EQ(resp.pools(0).ready(), 3u);
}

TEST_F(PoolTest, DeletePrintsThePoolAsDeleting) {
  AddPool(kFilling);
  CliResult r = Run({"pool", "delete", "web"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("^Pool: +web\nState: +DELETING\n"));
  EXPECT_EQ(Run({"pool", "delete", "nope"}).code, kExitNotFound);
}

// --- assign ---

TEST_F(PoolTest, AssignSendsCandidateLabelsAndARequestIdAndPrintsTheSandboxWithPassword) {
  AddPool(kFilling);
  AddIdle(kIdle);
  CliResult r = Run({"pool", "assign", "web", "--candidate", "c07", "--label", "exam=cloud-1"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<v1::AssignFromPoolRequest> sent = Assigns();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].pool(), "web");
  EXPECT_EQ(sent[0].candidate(), "c07");
  EXPECT_THAT(sent[0].labels(), ElementsAre(Pair("exam", "cloud-1")));
  EXPECT_THAT(sent[0].request_id(), ContainsRegex(kUuid));
  EXPECT_THAT(r.out, ContainsRegex("^Sandbox: +9009aaaa-0000-4000-8000-000000000001\n"));
  EXPECT_THAT(r.out, ContainsRegex("Candidate: +c07\n"));
  EXPECT_THAT(r.out, ContainsRegex("Labels: +exam=cloud-1\n"));
  EXPECT_THAT(r.out, HasSubstr("password quiet-otter-42"));
  EXPECT_THAT(r.out, HasSubstr("labrackctl sandbox console 9009aaaa-0000-4000-8000-000000000001 "
                               "--node server\n"));
}

TEST_F(PoolTest, AssignRetriesALostAnswerWithTheSameRequestIdAndHandsOutOneSandbox) {
  AddPool(kFilling);
  AddIdle(kIdle);
  AddIdle(R"pb(sandbox_id: "9009bbbb-0000-4000-8000-000000000002" phase: SANDBOX_PHASE_READY)pb");
  fake_.LoseNextAnswers(1);
  CliResult r = Run({"-o", "json", "pool", "assign", "web", "-c", "c07"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<v1::AssignFromPoolRequest> sent = Assigns();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].request_id(), sent[1].request_id());
  EXPECT_EQ(HandedOut(), 1u);
  EXPECT_THAT(r.err, HasSubstr("assign failed (connection reset by peer); retrying with the "
                               "same request id\n"));
  v1::Sandbox s;
  ASSERT_TRUE(ParseJson(r.out, &s)) << r.out;
  EXPECT_EQ(s.sandbox_id(), "9009aaaa-0000-4000-8000-000000000001");
  EXPECT_EQ(s.assign_request_id(), sent[0].request_id());
}

TEST_F(PoolTest, AssignWithAGivenRequestIdReturnsTheSameSandboxTwice) {
  AddPool(kFilling);
  AddIdle(kIdle);
  AddIdle(R"pb(sandbox_id: "9009bbbb-0000-4000-8000-000000000002" phase: SANDBOX_PHASE_READY)pb");
  std::vector<std::string> args = {"pool", "assign", "web", "-c", "c07", "--request-id", "c07-1"};
  ASSERT_EQ(Run(args).code, kExitOk);
  CliResult r = Run(args);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("^Sandbox: +9009aaaa-"));
  EXPECT_EQ(HandedOut(), 1u);
}

TEST_F(PoolTest, AssignWhenNoSandboxIsReadyPrintsTheControllersMessageAndExitsFive) {
  AddPool(kFilling);
  CliResult r = Run({"pool", "assign", "web", "-c", "c07"});
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_EQ(r.out, "");
  std::vector<v1::AssignFromPoolRequest> sent = Assigns();
  ASSERT_EQ(sent.size(), static_cast<size_t>(kCreateAttempts));
  EXPECT_EQ(sent.front().request_id(), sent.back().request_id());
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat(
                         "error: pool web has no READY sandbox (1 being built); try again later "
                         "(to retry without handing out a second sandbox, pass --request-id ",
                         sent[0].request_id(), ")\n")));
  EXPECT_EQ(HandedOut(), 0u);
}

TEST_F(PoolTest, AssignFromAnUnknownPoolExitsThreeWithoutRetrying) {
  CliResult r = Run({"pool", "assign", "nope", "-c", "c07"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err, "error: pool 'nope' not found\n");
  EXPECT_EQ(Assigns().size(), 1u);
}

TEST_F(PoolTest, AssignNeedsAPoolAndACandidate) {
  EXPECT_EQ(Run({"pool", "assign", "web"}).code, kExitUsage);
  EXPECT_EQ(Run({"pool", "assign", "-c", "c07"}).code, kExitUsage);
  EXPECT_TRUE(Assigns().empty());
}

TEST_F(PoolTest, HelpListsThePoolCommands) {
  CliResult r = RunArgs({"pool", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, AllOf(HasSubstr("create"), HasSubstr("get"), HasSubstr("list"),
                           HasSubstr("delete"), HasSubstr("assign")));
}

}  // namespace
}  // namespace labrack::cli::testing
