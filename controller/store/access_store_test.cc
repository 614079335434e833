// Tokens and the audit log in the SQLite store: what is kept across a restart, revocation,
// and that the audit log cannot be changed or shortened, even by SQL run on the file.
#include <sqlite3.h>

#include "common/proto_time.h"
#include "controller/store/store_test_fixture.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;

StoredToken NewToken(const std::string& id, absl::Time created, v1::Role role) {
  StoredToken stored;
  stored.token.set_token_id(id);
  stored.token.set_name("name-" + id);
  stored.token.set_role(role);
  *stored.token.mutable_created_at() = ToTimestamp(created);
  stored.secret_sha256 = std::string(64, 'a');
  return stored;
}

v1::AuditRecord Record(const std::string& method, const std::string& target) {
  v1::AuditRecord r;
  r.set_principal("alice");
  r.set_role(v1::ROLE_TRAINER);
  r.set_method(method);
  r.set_target(target);
  r.set_result("OK");
  return r;
}

// Runs `sql` on the database file through a connection of its own; the SQLite error text.
std::string RunSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "cannot open";
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string text = rc == SQLITE_OK ? "" : (error != nullptr ? error : "error");
  sqlite3_free(error);
  sqlite3_close(db);
  return text;
}

using AccessStore = StoreTest;

TEST_F(AccessStore, TokensSurviveARestartAndListNewestFirst) {
  ASSERT_OK(store_->CreateToken(NewToken("00000000000000a1", Now(), v1::ROLE_ADMIN)));
  Advance(absl::Seconds(1));
  ASSERT_OK(store_->CreateToken(NewToken("00000000000000b2", Now(), v1::ROLE_CANDIDATE)));
  EXPECT_THAT(store_->CreateToken(NewToken("00000000000000a1", Now(), v1::ROLE_ADMIN)),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_NO_FATAL_FAILURE(Reopen());

  absl::StatusOr<StoredToken> got = store_->GetToken("00000000000000a1");
  ASSERT_OK(got);
  EXPECT_EQ(got->token.role(), v1::ROLE_ADMIN);
  EXPECT_EQ(got->secret_sha256, std::string(64, 'a'));
  EXPECT_THAT(store_->GetToken("ffffffffffffffff"), StatusIs(absl::StatusCode::kNotFound));

  absl::StatusOr<std::vector<v1::Token>> list = store_->ListTokens();
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].token_id(), "00000000000000b2");
  EXPECT_EQ((*list)[1].token_id(), "00000000000000a1");
}

TEST_F(AccessStore, RevokingKeepsTheFirstTimeAndUnknownIdsAreNotFound) {
  ASSERT_OK(store_->CreateToken(NewToken("00000000000000a1", Now(), v1::ROLE_OPERATOR)));
  Advance(absl::Minutes(5));
  const absl::Time first = Now();
  absl::StatusOr<v1::Token> revoked = store_->RevokeToken("00000000000000a1", first);
  ASSERT_OK(revoked);
  EXPECT_EQ(ToTime(revoked->revoked_at()), first);
  Advance(absl::Minutes(5));
  revoked = store_->RevokeToken("00000000000000a1", Now());
  ASSERT_OK(revoked);
  EXPECT_EQ(ToTime(revoked->revoked_at()), first);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  absl::StatusOr<StoredToken> got = store_->GetToken("00000000000000a1");
  ASSERT_OK(got);
  EXPECT_EQ(ToTime(got->token.revoked_at()), first);
  EXPECT_THAT(store_->RevokeToken("ffffffffffffffff", Now()),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(AccessStore, AuditListsInOrderFromASeqOrATime) {
  for (int i = 1; i <= 5; ++i) {
    absl::StatusOr<uint64_t> seq = store_->AppendAudit(Record("LabController/ResetSandbox",
                                                              "sb-" + std::to_string(i)));
    ASSERT_OK(seq);
    EXPECT_EQ(*seq, static_cast<uint64_t>(i));
    Advance(absl::Minutes(1));
  }
  absl::StatusOr<std::vector<v1::AuditRecord>> all =
      store_->ListAudit(0, absl::InfinitePast(), 100);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].target(), "sb-1");
  EXPECT_EQ((*all)[0].seq(), 1u);
  EXPECT_EQ((*all)[4].principal(), "alice");

  absl::StatusOr<std::vector<v1::AuditRecord>> after = store_->ListAudit(3, absl::InfinitePast(), 100);
  ASSERT_OK(after);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].target(), "sb-4");

  const absl::Time third = ToTime((*all)[2].time());
  absl::StatusOr<std::vector<v1::AuditRecord>> since = store_->ListAudit(0, third, 2);
  ASSERT_OK(since);
  ASSERT_EQ(since->size(), 2u);
  EXPECT_EQ((*since)[0].target(), "sb-3");
  EXPECT_EQ((*since)[1].target(), "sb-4");
}

TEST_F(AccessStore, TheAuditLogRefusesUpdatesAndDeletesEvenFromRawSql) {
  ASSERT_OK(store_->AppendAudit(Record("LabController/DestroySandbox", "sb-1")));
  store_.reset();  // no connection of ours holds the file while the raw one writes
  EXPECT_THAT(RunSql(path_, "UPDATE audit SET time_us = 0"),
              ::testing::HasSubstr("append-only"));
  EXPECT_THAT(RunSql(path_, "DELETE FROM audit"), ::testing::HasSubstr("append-only"));
  ASSERT_NO_FATAL_FAILURE(Reopen());
  absl::StatusOr<std::vector<v1::AuditRecord>> all =
      store_->ListAudit(0, absl::InfinitePast(), 100);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].target(), "sb-1");
  EXPECT_EQ((*all)[0].method(), "LabController/DestroySandbox");
}

}  // namespace
}  // namespace labrack::controller
