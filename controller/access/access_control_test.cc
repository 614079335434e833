// AccessControl on a real SQLite store: bootstrap, authentication (missing, malformed,
// unknown, wrong secret, expired, revoked), the narrower roles' objects, token creation's
// checks, and that refusals land in the audit log. The role-by-call table over gRPC is in
// controller/access_roles_test.cc.
#include "controller/access/access_control.h"

#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "controller/store/store_test_fixture.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

class AccessControlTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    access_ = std::make_unique<AccessControl>(store_.get(), [this] { return Now(); });
    admin_.name = "root";
    admin_.role = v1::ROLE_ADMIN;
  }
  void TearDown() override {
    access_.reset();
    StoreTest::TearDown();
  }

  // A sandbox owned by `owner`.
  std::string AddSandbox(const std::string& id, const std::string& owner) {
    AddHost("h1", 1 << 20);
    v1::Sandbox s = NewSandbox(id);
    s.set_owner(owner);
    EXPECT_OK(store_->CreateSandbox(s, WebTopology(), PlaceOn("h1")));
    return id;
  }

  std::string Issue(const std::string& name, v1::Role role, const std::string& sandbox = "",
                    uint32_t ttl = 0) {
    v1::CreateTokenRequest req;
    req.set_name(name);
    req.set_role(role);
    req.set_sandbox_id(sandbox);
    req.set_ttl_seconds(ttl);
    absl::StatusOr<v1::CreateTokenResponse> r = access_->CreateToken(admin_, req);
    EXPECT_OK(r);
    return r.ok() ? "Bearer " + r->secret() : "";
  }

  absl::StatusOr<Caller> Admit(const std::string& auth, absl::string_view method,
                               const std::string& target = "") {
    return access_->Admit(auth.empty() ? std::nullopt : std::optional<absl::string_view>(auth),
                          method, target, "ipv4:127.0.0.1:1");
  }

  std::vector<v1::AuditRecord> Audit() {
    absl::StatusOr<std::vector<v1::AuditRecord>> records = store_->ListAudit(0, absl::InfinitePast(), 1000);
    EXPECT_OK(records);
    return records.ok() ? *records : std::vector<v1::AuditRecord>{};
  }

  std::unique_ptr<AccessControl> access_;
  Caller admin_;
};

TEST_F(AccessControlTest, BootstrapWritesOneAdminTokenReadableByItsOwnerOnly) {
  const std::string path = dir_ + "/admin.token";
  absl::StatusOr<bool> made = access_->Bootstrap(path);
  ASSERT_OK(made);
  EXPECT_TRUE(*made);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string secret;
  std::getline(in, secret);

  absl::StatusOr<Caller> caller = Admit("Bearer " + secret, "LabAccess/CreateToken");
  ASSERT_OK(caller);
  EXPECT_EQ(caller->role, v1::ROLE_ADMIN);
  EXPECT_EQ(caller->name, "admin");

  // A restart finds a token and writes nothing; the secret itself is nowhere in the store.
  made = access_->Bootstrap(path);
  ASSERT_OK(made);
  EXPECT_FALSE(*made);
  absl::StatusOr<StoredToken> stored = store_->GetToken(caller->token_id);
  ASSERT_OK(stored);
  EXPECT_NE(stored->secret_sha256, secret);
  store_.reset();
  access_.reset();
  std::ifstream db(path_, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(secret.substr(17)), std::string::npos);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  access_ = std::make_unique<AccessControl>(store_.get(), [this] { return Now(); });
}

TEST_F(AccessControlTest, BadTokensAreUnauthenticatedAndRecorded) {
  const std::string good = Issue("ops", v1::ROLE_OPERATOR);
  std::string wrong_secret = good;
  wrong_secret.back() = wrong_secret.back() == '0' ? '1' : '0';
  const std::string unknown = "Bearer " + std::string(16, 'e') + "." + std::string(64, 'f');

  EXPECT_THAT(Admit("", "LabController/ListHosts"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("needs a token")));
  EXPECT_THAT(Admit("Basic abc", "LabController/ListHosts"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("Bearer")));
  EXPECT_THAT(Admit("Bearer not-a-token", "LabController/ListHosts"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("malformed")));
  EXPECT_THAT(Admit(unknown, "LabController/ListHosts"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("not valid")));
  EXPECT_THAT(Admit(wrong_secret, "LabController/ListHosts"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("not valid")));
  EXPECT_OK(Admit(good, "LabController/ListHosts"));

  std::vector<v1::AuditRecord> audit = Audit();
  ASSERT_EQ(audit.size(), 5u);  // the five refusals; an allowed read is not recorded
  for (const v1::AuditRecord& r : audit) {
    EXPECT_EQ(r.result(), "UNAUTHENTICATED");
    EXPECT_EQ(r.method(), "LabController/ListHosts");
    EXPECT_EQ(r.principal(), "anonymous");
    EXPECT_EQ(r.peer(), "ipv4:127.0.0.1:1");
  }
}

TEST_F(AccessControlTest, ExpiredAndRevokedTokensAreRefusedWithTheReason) {
  const std::string short_lived = Issue("temp", v1::ROLE_OPERATOR, "", 60);
  const std::string revoked = Issue("gone", v1::ROLE_TRAINER);
  EXPECT_OK(Admit(short_lived, "LabController/ListHosts"));
  Advance(absl::Seconds(61));
  EXPECT_THAT(Admit(short_lived, "LabController/ListHosts"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("expired at")));

  EXPECT_OK(Admit(revoked, "LabController/ListTopologies"));
  const std::string id = revoked.substr(7, 16);
  ASSERT_OK(access_->RevokeToken(id));
  EXPECT_THAT(Admit(revoked, "LabController/ListTopologies"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("was revoked at")));
  EXPECT_THAT(access_->RevokeToken("nothex"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                       HasSubstr("token_id")));
  EXPECT_THAT(access_->RevokeToken(std::string(16, 'a')), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(AccessControlTest, ACandidateReachesOnlyItsOwnSandbox) {
  const std::string mine = AddSandbox("aaaaaaaa-0000-4000-8000-000000000001", "trainer1");
  const std::string other = AddSandbox("bbbbbbbb-0000-4000-8000-000000000002", "trainer1");
  const std::string token = Issue("alice", v1::ROLE_CANDIDATE, mine);

  EXPECT_OK(Admit(token, "LabController/GetSandbox", mine));
  EXPECT_OK(Admit(token, "LabController/ResetSandbox", mine));
  EXPECT_OK(Admit(token, "LabController/WatchEvents", mine));
  EXPECT_THAT(Admit(token, "LabController/GetSandbox", other),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(mine + " only")));
  EXPECT_THAT(Admit(token, "LabController/ResetSandbox", other),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Admit(token, "LabController/WatchEvents", ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Admit(token, "LabController/DestroySandbox", mine),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("candidate token 'alice'")));
  EXPECT_THAT(Admit(token, "LabController/ListSandboxes"),
              StatusIs(absl::StatusCode::kPermissionDenied));

  // The console's sandbox arrives after the call is admitted.
  absl::StatusOr<Caller> caller = access_->AdmitRole(token, "LabController/AttachConsole", "peer");
  ASSERT_OK(caller);
  EXPECT_OK(access_->AdmitTarget(*caller, "LabController/AttachConsole", mine));
  EXPECT_THAT(access_->AdmitTarget(*caller, "LabController/AttachConsole", other),
              StatusIs(absl::StatusCode::kPermissionDenied));
  const std::vector<v1::AuditRecord> audit = Audit();
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.back().target(), other);
  EXPECT_EQ(audit.back().principal(), "alice");
  EXPECT_EQ(audit.back().role(), v1::ROLE_CANDIDATE);
}

TEST_F(AccessControlTest, ATrainerReachesOnlyWhatItOwns) {
  const std::string mine = AddSandbox("aaaaaaaa-0000-4000-8000-000000000001", "t1");
  const std::string theirs = AddSandbox("bbbbbbbb-0000-4000-8000-000000000002", "t2");
  const std::string token = Issue("t1", v1::ROLE_TRAINER);
  EXPECT_OK(Admit(token, "LabController/CloneSandbox", mine));
  EXPECT_THAT(Admit(token, "LabController/CloneSandbox", theirs),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("its own sandboxes")));
  EXPECT_THAT(Admit(token, "LabController/GetSandbox", "cccccccc-0000-4000-8000-000000000003"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Admit(token, "LabController/GetSession", "someone-elses"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("its own sessions")));
  EXPECT_THAT(Admit(token, "LabController/DrainHost"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_OK(Admit(token, "LabController/ApplyTopology"));

  Caller trainer;
  trainer.name = "t1";
  trainer.role = v1::ROLE_TRAINER;
  EXPECT_TRUE(AccessControl::Sees(trainer, "t1"));
  EXPECT_FALSE(AccessControl::Sees(trainer, "t2"));
  EXPECT_TRUE(AccessControl::Sees(admin_, "t2"));
}

TEST_F(AccessControlTest, BadTokenRequestsNameTheFieldAndMakeNothing) {
  const std::string sandbox = AddSandbox("aaaaaaaa-0000-4000-8000-000000000001", "t1");
  struct Case {
    std::string name;
    v1::Role role;
    std::string sandbox;
    uint32_t ttl;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"", v1::ROLE_ADMIN, "", 0, "name"},
      {"bad/name", v1::ROLE_ADMIN, "", 0, "name"},
      {std::string("nul\0x", 5), v1::ROLE_ADMIN, "", 0, "name"},
      {"x", v1::ROLE_UNSPECIFIED, "", 0, "role"},
      {"x", static_cast<v1::Role>(42), "", 0, "role"},
      {"x", v1::ROLE_CANDIDATE, "", 0, "sandbox_id"},
      {"x", v1::ROLE_CANDIDATE, "../etc", 0, "sandbox_id"},
      {"x", v1::ROLE_CANDIDATE, "cccccccc-0000-4000-8000-000000000003", 0, "sandbox_id"},
      {"x", v1::ROLE_TRAINER, sandbox, 0, "sandbox_id"},
      {"x", v1::ROLE_TRAINER, "", 400 * 24 * 3600, "ttl_seconds"},
  };
  for (const Case& c : cases) {
    v1::CreateTokenRequest req;
    req.set_name(c.name);
    req.set_role(c.role);
    req.set_sandbox_id(c.sandbox);
    req.set_ttl_seconds(c.ttl);
    absl::StatusOr<v1::CreateTokenResponse> r = access_->CreateToken(admin_, req);
    EXPECT_FALSE(r.ok()) << c.field;
    EXPECT_THAT(r.status().message(), HasSubstr(c.field));
  }
  absl::StatusOr<std::vector<v1::Token>> tokens = access_->ListTokens();
  ASSERT_OK(tokens);
  EXPECT_TRUE(tokens->empty());
}

}  // namespace
}  // namespace labrack::controller
