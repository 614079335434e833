// Every role against every call of LabController and LabAccess, over real gRPC to an
// in-process controller (fake hypervisor): the expected table is written out here, from
// the roles' definitions, not taken from access_policy.cc, and every rule there must have
// a row here. Each call's request is made so that, once admitted, it fails harmlessly
// (a bad field, an unknown name) or does nothing new (destroying a destroyed sandbox):
// admission shows as any answer but PERMISSION_DENIED or UNAUTHENTICATED. Also over gRPC:
// trainers list only their own, tokens expire and are revoked, and the audit log records
// who did what.
#include <grpcpp/generic/generic_stub.h>

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "common/proto_time.h"
#include "controller/access/access_policy.h"
#include "controller/controller_test_fixture.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

struct Answer {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string message;
  bool got_message = false;

  bool admitted() const {
    return got_message || (code != grpc::StatusCode::PERMISSION_DENIED &&
                           code != grpc::StatusCode::UNAUTHENTICATED);
  }
};

// One call of any kind through the generic stub: `request` sent (unless null), the
// sending side closed, one answer read (a stream is then cancelled), the status taken.
Answer RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
               const google::protobuf::Message* request) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(&ctx, method, &cq);
  void* tag = nullptr;
  bool ok = false;
  auto wait = [&] {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  bool open = wait();
  if (open && request != nullptr) {
    grpc::Slice slice(request->SerializeAsString());
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, reinterpret_cast<void*>(2));
    open = wait();
  }
  if (open) {
    call->WritesDone(reinterpret_cast<void*>(3));
    wait();
  }
  Answer answer;
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(4));
  answer.got_message = wait();
  if (answer.got_message) ctx.TryCancel();  // a stream would go on
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  wait();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  answer.code = status.error_code();
  answer.message = status.error_message();
  return answer;
}

std::string Path(const std::string& method) { return "/labrack.v1." + method; }

class AccessRolesTest : public ControllerTest {
 protected:
  void Configure(ControllerOptions& options) override {
    options.config.trainer_max_sandboxes = kTrainerQuota;
  }
  static constexpr uint32_t kTrainerQuota = 4;

  void SetUp() override {
    ControllerTest::SetUp();
    if (HasFatalFailure()) return;
    operator_ = Token("ops", v1::ROLE_OPERATOR);
    trainer_ = Token("coach", v1::ROLE_TRAINER);
    auto as_trainer = v1::LabController::NewStub(ChannelWithToken(trainer_));
    // The trainer's live sandbox (the candidate's too) and a destroyed one.
    live_ = CreateAs(*as_trainer, "cand-1");
    gone_ = CreateAs(*as_trainer, "cand-2");
    ASSERT_FALSE(live_.empty());
    ASSERT_FALSE(gone_.empty());
    ASSERT_TRUE(WaitPhase(live_, v1::SANDBOX_PHASE_READY));
    v1::DestroySandboxRequest destroy;
    destroy.set_sandbox_id(gone_);
    v1::Sandbox s;
    ASSERT_OK(Call(&v1::LabController::Stub::DestroySandbox, destroy, &s));
    ASSERT_TRUE(WaitPhase(gone_, v1::SANDBOX_PHASE_DESTROYED));
    // The trainer's session, waiting an hour to start: ending it builds nothing.
    v1::CreateSessionRequest session;
    session.set_name("class-a");
    session.set_topology("mini");
    session.add_candidates("stu-1");
    *session.mutable_start_time() = ToTimestamp(absl::Now() + absl::Hours(1));
    session.set_duration_seconds(3600);
    grpc::ClientContext ctx;
    v1::Session created;
    ASSERT_OK(FromGrpc(as_trainer->CreateSession(&ctx, session, &created)));
    EXPECT_EQ(created.owner(), "coach");
    candidate_ = Token("cand-1", v1::ROLE_CANDIDATE, live_);
  }

  std::string Token(const std::string& name, v1::Role role, const std::string& sandbox = "",
                    uint32_t ttl = 0) {
    auto access = v1::LabAccess::NewStub(ChannelWithToken(admin_token_));
    v1::CreateTokenRequest req;
    req.set_name(name);
    req.set_role(role);
    req.set_sandbox_id(sandbox);
    req.set_ttl_seconds(ttl);
    grpc::ClientContext ctx;
    v1::CreateTokenResponse resp;
    EXPECT_OK(FromGrpc(access->CreateToken(&ctx, req, &resp)));
    return resp.secret();
  }

  std::string CreateAs(v1::LabController::Stub& stub, const std::string& candidate) {
    v1::CreateSandboxRequest req;
    req.set_topology("mini");
    req.set_candidate(candidate);
    grpc::ClientContext ctx;
    v1::Sandbox s;
    EXPECT_OK(FromGrpc(stub.CreateSandbox(&ctx, req, &s)));
    EXPECT_EQ(s.owner(), "coach");
    return s.sandbox_id();
  }

  // The request each call gets: harmless once admitted. A candidate's sandbox calls name
  // its own sandbox, so that only its role can refuse them.
  std::unique_ptr<google::protobuf::Message> RequestFor(const std::string& method, char role) {
    const std::string m = method.substr(method.find('/') + 1);
    if (m == "DrainHost") {
      auto r = std::make_unique<v1::DrainHostRequest>();
      r->set_host_id("no-such-host");
      return r;
    }
    if (m == "ImportImage") return nullptr;  // no manifest: INVALID_ARGUMENT once admitted
    if (m == "ApplyTopology") return std::make_unique<v1::ApplyTopologyRequest>();
    if (m == "GetTopology") {
      auto r = std::make_unique<v1::GetTopologyRequest>();
      r->set_name("mini");
      return r;
    }
    if (m == "CreateSandbox") return std::make_unique<v1::CreateSandboxRequest>();
    if (m == "GetSandbox") {
      auto r = std::make_unique<v1::GetSandboxRequest>();
      r->set_sandbox_id(live_);
      return r;
    }
    if (m == "ResetSandbox") {
      auto r = std::make_unique<v1::ResetSandboxRequest>();
      r->set_sandbox_id(live_);
      r->add_nodes("no-such-node");
      return r;
    }
    if (m == "DestroySandbox") {
      auto r = std::make_unique<v1::DestroySandboxRequest>();
      r->set_sandbox_id(role == 'C' ? live_ : gone_);
      return r;
    }
    if (m == "CaptureSandbox") {
      auto r = std::make_unique<v1::CaptureSandboxRequest>();
      r->set_sandbox_id(live_);
      r->set_image("Not A Name");
      return r;
    }
    if (m == "CloneSandbox") {
      auto r = std::make_unique<v1::CloneSandboxRequest>();
      r->set_sandbox_id(live_);
      r->set_count(0);
      return r;
    }
    if (m == "WatchEvents") {
      auto r = std::make_unique<v1::WatchEventsRequest>();
      r->set_sandbox_id(live_);
      return r;
    }
    if (m == "AttachConsole") {
      auto r = std::make_unique<v1::ConsoleInput>();
      r->mutable_open()->set_sandbox_id(live_);
      r->mutable_open()->set_node("no-such-node");
      return r;
    }
    if (m == "CreateSession") return std::make_unique<v1::CreateSessionRequest>();
    if (m == "GetSession" || m == "WatchSession") {
      auto r = std::make_unique<v1::GetSessionRequest>();
      r->set_session("class-a");
      return r;
    }
    if (m == "EndSession") {
      auto r = std::make_unique<v1::EndSessionRequest>();
      r->set_session("class-a");
      return r;
    }
    if (m == "CreatePool") {
      auto r = std::make_unique<v1::CreatePoolRequest>();
      r->set_name("Bad Name");
      return r;
    }
    if (m == "GetPool" || m == "DeletePool") {
      auto r = std::make_unique<v1::GetPoolRequest>();
      r->set_name("no-such-pool");
      return r;
    }
    if (m == "AssignFromPool") {
      auto r = std::make_unique<v1::AssignFromPoolRequest>();
      r->set_pool("no-such-pool");
      r->set_candidate("x");
      return r;
    }
    if (m == "CreateToken") return std::make_unique<v1::CreateTokenRequest>();
    if (m == "RevokeToken") {
      auto r = std::make_unique<v1::RevokeTokenRequest>();
      r->set_token_id("not-hex");
      return r;
    }
    // The lists, ValidateTopology: an empty request.
    return std::make_unique<v1::ListPoolsRequest>();
  }

  std::string operator_;
  std::string trainer_;
  std::string candidate_;
  std::string live_;
  std::string gone_;
};

// Who may call what: A admin, O operator, T trainer (its own), C candidate (its sandbox).
const std::map<std::string, std::string>& ExpectedRoles() {
  static const std::map<std::string, std::string> table = {
      {"LabController/ListHosts", "AO"},         {"LabController/DrainHost", "AO"},
      {"LabController/ImportImage", "AO"},       {"LabController/ListImages", "AOT"},
      {"LabController/ApplyTopology", "AT"},     {"LabController/ValidateTopology", "AOT"},
      {"LabController/GetTopology", "AOT"},      {"LabController/ListTopologies", "AOT"},
      {"LabController/CreateSandbox", "AT"},     {"LabController/GetSandbox", "AOTC"},
      {"LabController/ListSandboxes", "AOT"},    {"LabController/ResetSandbox", "ATC"},
      {"LabController/DestroySandbox", "AOT"},   {"LabController/CaptureSandbox", "AT"},
      {"LabController/CloneSandbox", "AT"},      {"LabController/WatchEvents", "AOTC"},
      {"LabController/AttachConsole", "ATC"},    {"LabController/CreateSession", "AOT"},
      {"LabController/GetSession", "AOT"},       {"LabController/ListSessions", "AOT"},
      {"LabController/EndSession", "AOT"},       {"LabController/WatchSession", "AOT"},
      {"LabController/CreatePool", "AT"},        {"LabController/GetPool", "AOT"},
      {"LabController/ListPools", "AOT"},        {"LabController/DeletePool", "AT"},
      {"LabController/AssignFromPool", "AT"},    {"LabAccess/CreateToken", "A"},
      {"LabAccess/ListTokens", "A"},             {"LabAccess/RevokeToken", "A"},
      {"LabAccess/ListAudit", "AO"},
  };
  return table;
}

TEST_F(AccessRolesTest, EachRoleMayMakeExactlyTheCallsOfItsRole) {
  const std::map<char, std::string> tokens = {
      {'A', admin_token_}, {'O', operator_}, {'T', trainer_}, {'C', candidate_}};
  std::set<std::string> covered;
  for (const AccessRule& rule : AccessRules()) {
    const std::string method(rule.method);
    if (rule.scope == Scope::kWorker) continue;  // certificates, not tokens: tls_test
    auto row = ExpectedRoles().find(method);
    ASSERT_NE(row, ExpectedRoles().end()) << method << " has no row in the expected table";
    covered.insert(method);
    for (const auto& [letter, token] : tokens) {
      std::unique_ptr<google::protobuf::Message> request = RequestFor(method, letter);
      Answer answer = RawCall(ChannelWithToken(token), Path(method), request.get());
      const bool expected = absl::StrContains(row->second, letter);
      EXPECT_EQ(answer.admitted(), expected)
          << letter << " calling " << method << ": " << answer.code << " " << answer.message;
      if (!expected) {
        EXPECT_EQ(answer.code, grpc::StatusCode::PERMISSION_DENIED) << method;
      }
    }
    // No token at all: refused before anything else.
    std::unique_ptr<google::protobuf::Message> request = RequestFor(method, 'A');
    Answer anonymous = RawCall(ChannelWithToken(""), Path(method), request.get());
    EXPECT_EQ(anonymous.code, grpc::StatusCode::UNAUTHENTICATED) << method << ": " << anonymous.message;
  }
  EXPECT_EQ(covered.size(), ExpectedRoles().size()) << "a row names a call without a rule";
}

TEST_F(AccessRolesTest, ACandidateReachesNothingOfAnotherSandbox) {
  auto other = Create("mini");
  ASSERT_OK(other);
  auto channel = ChannelWithToken(candidate_);
  for (const char* method : {"LabController/GetSandbox", "LabController/ResetSandbox",
                             "LabController/WatchEvents", "LabController/AttachConsole"}) {
    std::unique_ptr<google::protobuf::Message> request;
    const std::string m(method);
    if (m == "LabController/AttachConsole") {
      auto r = std::make_unique<v1::ConsoleInput>();
      r->mutable_open()->set_sandbox_id(other->sandbox_id());
      r->mutable_open()->set_node("web");
      request = std::move(r);
    } else {
      // GetSandbox, ResetSandbox and WatchEvents all carry sandbox_id as field 1 or 2;
      // build each properly.
      if (m == "LabController/GetSandbox") {
        auto r = std::make_unique<v1::GetSandboxRequest>();
        r->set_sandbox_id(other->sandbox_id());
        request = std::move(r);
      } else if (m == "LabController/ResetSandbox") {
        auto r = std::make_unique<v1::ResetSandboxRequest>();
        r->set_sandbox_id(other->sandbox_id());
        request = std::move(r);
      } else {
        auto r = std::make_unique<v1::WatchEventsRequest>();
        r->set_sandbox_id(other->sandbox_id());
        request = std::move(r);
      }
    }
    Answer answer = RawCall(channel, Path(method), request.get());
    EXPECT_EQ(answer.code, grpc::StatusCode::PERMISSION_DENIED) << method << ": " << answer.message;
    EXPECT_FALSE(answer.got_message) << method;
    EXPECT_THAT(answer.message, HasSubstr("is for sandbox " + live_ + " only"));
  }
  // Every event of every sandbox: no.
  v1::WatchEventsRequest all;
  EXPECT_EQ(RawCall(channel, Path("LabController/WatchEvents"), &all).code,
            grpc::StatusCode::PERMISSION_DENIED);
  // The other sandbox was not reset.
  EXPECT_EQ(Get(other->sandbox_id()).generation(), other->generation());
}

TEST_F(AccessRolesTest, AMalformedIdIsInvalidForEveryRole) {
  for (const std::string& token : {admin_token_, operator_, trainer_, candidate_}) {
    auto channel = ChannelWithToken(token);
    v1::GetSandboxRequest get;
    get.set_sandbox_id("../x");
    v1::WatchEventsRequest watch;
    watch.set_sandbox_id("../x");
    for (auto [method, request] :
         std::vector<std::pair<const char*, google::protobuf::Message*>>{
             {"LabController/GetSandbox", &get}, {"LabController/WatchEvents", &watch}}) {
      Answer answer = RawCall(channel, Path(method), request);
      EXPECT_EQ(answer.code, grpc::StatusCode::INVALID_ARGUMENT)
          << method << ": " << answer.message;
      EXPECT_THAT(answer.message, HasSubstr("sandbox_id")) << method;
    }
  }
  v1::GetSessionRequest session;
  session.set_session("Not A Session!");
  EXPECT_EQ(RawCall(ChannelWithToken(trainer_), Path("LabController/GetSession"), &session).code,
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AccessRolesTest, TrainersListOnlyTheirOwnSandboxesAndSessions) {
  auto admins = Create("mini");  // owned by the admin token
  ASSERT_OK(admins);
  auto as_trainer = v1::LabController::NewStub(ChannelWithToken(trainer_));
  grpc::ClientContext ctx;
  v1::ListSandboxesRequest req;
  req.set_include_destroyed(true);
  v1::ListSandboxesResponse list;
  ASSERT_OK(FromGrpc(as_trainer->ListSandboxes(&ctx, req, &list)));
  std::set<std::string> ids;
  for (const v1::Sandbox& s : list.sandboxes()) ids.insert(s.sandbox_id());
  EXPECT_TRUE(ids.count(live_));
  EXPECT_TRUE(ids.count(gone_));
  EXPECT_FALSE(ids.count(admins->sandbox_id()));

  v1::ListSandboxesResponse everything;
  ASSERT_OK(Call(&v1::LabController::Stub::ListSandboxes, req, &everything));
  EXPECT_GT(everything.sandboxes_size(), list.sandboxes_size());

  // A session of the operator's is not the trainer's.
  auto as_operator = v1::LabController::NewStub(ChannelWithToken(operator_));
  v1::CreateSessionRequest session;
  session.set_name("exam-b");
  session.set_topology("mini");
  session.add_candidates("stu-2");
  *session.mutable_start_time() = ToTimestamp(absl::Now() + absl::Hours(1));
  session.set_duration_seconds(3600);
  grpc::ClientContext octx;
  v1::Session created;
  ASSERT_OK(FromGrpc(as_operator->CreateSession(&octx, session, &created)));
  grpc::ClientContext lctx;
  v1::ListSessionsResponse sessions;
  ASSERT_OK(FromGrpc(as_trainer->ListSessions(&lctx, v1::ListSessionsRequest(), &sessions)));
  ASSERT_EQ(sessions.sessions_size(), 1);
  EXPECT_EQ(sessions.sessions(0).name(), "class-a");
  grpc::ClientContext ectx;
  v1::EndSessionRequest end;
  end.set_session("exam-b");
  v1::Session ended;
  EXPECT_THAT(FromGrpc(as_trainer->EndSession(&ectx, end, &ended)),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("its own sessions")));
}

TEST_F(AccessRolesTest, ATrainerOwnsNoMoreLiveSandboxesThanItsQuota) {
  // The trainer owns live_ and the waiting session's sandbox; gone_ is DESTROYED.
  auto as_trainer = v1::LabController::NewStub(ChannelWithToken(trainer_));
  auto count_mine = [&] {
    grpc::ClientContext ctx;
    v1::ListSandboxesResponse list;
    EXPECT_OK(FromGrpc(as_trainer->ListSandboxes(&ctx, v1::ListSandboxesRequest(), &list)));
    return list.sandboxes_size();
  };
  ASSERT_EQ(count_mine(), 2);
  grpc::ClientContext cctx;
  v1::CloneSandboxRequest clone;
  clone.set_sandbox_id(live_);
  clone.set_count(3);
  v1::CloneSandboxResponse clones;
  EXPECT_THAT(FromGrpc(as_trainer->CloneSandbox(&cctx, clone, &clones)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("owns 2 live sandboxes; 3 more would pass its quota of 4")));
  EXPECT_EQ(count_mine(), 2) << "a refused clone made something";
  const std::string third = CreateAs(*as_trainer, "cand-3");
  EXPECT_FALSE(third.empty());
  EXPECT_FALSE(CreateAs(*as_trainer, "cand-4").empty());
  grpc::ClientContext ctx;
  v1::CreateSandboxRequest req;
  req.set_topology("mini");
  req.set_candidate("cand-5");
  v1::Sandbox s;
  EXPECT_THAT(FromGrpc(as_trainer->CreateSandbox(&ctx, req, &s)),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("quota of 4")));
  EXPECT_EQ(count_mine(), 4);
  // A destroyed sandbox no longer counts.
  grpc::ClientContext dctx;
  v1::DestroySandboxRequest destroy;
  destroy.set_sandbox_id(third);
  ASSERT_OK(FromGrpc(as_trainer->DestroySandbox(&dctx, destroy, &s)));
  ASSERT_TRUE(WaitPhase(third, v1::SANDBOX_PHASE_DESTROYED));
  EXPECT_FALSE(CreateAs(*as_trainer, "cand-5").empty());
}

TEST_F(AccessRolesTest, ExpiredAndRevokedTokensAreRefusedOverTheWire) {
  const std::string brief = Token("brief", v1::ROLE_OPERATOR, "", 1);
  const std::string revoked = Token("revoked", v1::ROLE_OPERATOR);
  v1::ListHostsRequest list;
  EXPECT_TRUE(RawCall(ChannelWithToken(revoked), Path("LabController/ListHosts"), &list).admitted());
  auto access = v1::LabAccess::NewStub(ChannelWithToken(admin_token_));
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(revoked.substr(0, 16));
  grpc::ClientContext ctx;
  v1::Token out;
  ASSERT_OK(FromGrpc(access->RevokeToken(&ctx, revoke, &out)));
  Answer after = RawCall(ChannelWithToken(revoked), Path("LabController/ListHosts"), &list);
  EXPECT_EQ(after.code, grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(after.message, HasSubstr("was revoked"));

  absl::SleepFor(absl::Milliseconds(1100));
  Answer expired = RawCall(ChannelWithToken(brief), Path("LabController/ListHosts"), &list);
  EXPECT_EQ(expired.code, grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(expired.message, HasSubstr("expired"));

  std::string forged = admin_token_;
  forged.back() = forged.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(RawCall(ChannelWithToken(forged), Path("LabController/ListHosts"), &list).code,
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AccessRolesTest, TheAuditLogSaysWhoDidWhatAndWhatWasRefused) {
  auto as_candidate = v1::LabController::NewStub(ChannelWithToken(candidate_));
  grpc::ClientContext ctx;
  v1::ResetSandboxRequest reset;
  reset.set_sandbox_id(live_);
  v1::Sandbox s;
  ASSERT_OK(FromGrpc(as_candidate->ResetSandbox(&ctx, reset, &s)));
  grpc::ClientContext dctx;
  v1::DestroySandboxRequest destroy;
  destroy.set_sandbox_id(live_);
  EXPECT_THAT(FromGrpc(as_candidate->DestroySandbox(&dctx, destroy, &s)),
              StatusIs(absl::StatusCode::kPermissionDenied));

  auto access = v1::LabAccess::NewStub(ChannelWithToken(operator_));
  grpc::ClientContext actx;
  v1::ListAuditResponse audit;
  ASSERT_OK(FromGrpc(access->ListAudit(&actx, v1::ListAuditRequest(), &audit)));
  const v1::AuditRecord* reset_record = nullptr;
  const v1::AuditRecord* refused = nullptr;
  const v1::AuditRecord* created = nullptr;
  std::vector<std::string> reset_results;
  for (const v1::AuditRecord& r : audit.records()) {
    if (r.method() == "LabController/ResetSandbox" && r.principal() == "cand-1") {
      reset_record = &r;
      reset_results.push_back(r.result());
    }
    if (r.method() == "LabController/DestroySandbox" && r.principal() == "cand-1") refused = &r;
    if (r.method() == "LabController/CreateSandbox" && r.target() == live_) created = &r;
  }
  // One record before the call runs, so that a controller stopped during it leaves one
  // too, and one with the result.
  EXPECT_THAT(reset_results, ::testing::ElementsAre("STARTED", "OK"));
  ASSERT_NE(reset_record, nullptr);
  EXPECT_EQ(reset_record->target(), live_);
  EXPECT_EQ(reset_record->result(), "OK");
  EXPECT_EQ(reset_record->role(), v1::ROLE_CANDIDATE);
  EXPECT_THAT(reset_record->peer(), HasSubstr("127.0.0.1"));
  EXPECT_TRUE(reset_record->has_time());
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->result(), "PERMISSION_DENIED");
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->principal(), "coach");
  EXPECT_EQ(created->role(), v1::ROLE_TRAINER);
  // Reads are not recorded.
  for (const v1::AuditRecord& r : audit.records()) {
    EXPECT_NE(r.method(), "LabController/GetSandbox") << r.principal();
  }
  // Sequence numbers only grow.
  for (int i = 1; i < audit.records_size(); ++i) {
    EXPECT_GT(audit.records(i).seq(), audit.records(i - 1).seq());
  }
}

}  // namespace
}  // namespace labrack::controller
