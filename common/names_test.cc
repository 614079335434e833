#include "common/names.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

TEST(SandboxId, AcceptsUuidAndRejectsOthers) {
  EXPECT_OK(ValidateSandboxId("id", "0123abcd"));
  EXPECT_OK(ValidateSandboxId("id", "6f1c2a9e-8d3b-4f6a-9c1d-2e3f4a5b6c7d"));
  EXPECT_THAT(ValidateSandboxId("sandbox_id", "0123abc"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sandbox_id")));
  EXPECT_THAT(ValidateSandboxId("id", "0123-abcd"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateSandboxId("id", "0123ABCD"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateSandboxId("id", std::string(65, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ObjectName, AcceptsDnsLikeNamesOnly) {
  EXPECT_OK(ValidateObjectName("node", "server"));
  EXPECT_OK(ValidateObjectName("node", "web-1"));
  for (const char* bad : {"", "1abc", "Server", "a_b", "a/b", "../x", "abc-", "a b",
                          "aaaaaaaaaaaaaaaaaaaaaaaaa", "x'y", "x<y"}) {
    EXPECT_THAT(ValidateObjectName("nodes[0].name", bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nodes[0].name")))
        << bad;
  }
}

TEST(ImageName, RefusesPaths) {
  EXPECT_OK(ValidateImageName("image", "tiny"));
  EXPECT_OK(ValidateImageName("image", "debian-12.5_server"));
  for (const char* bad : {"", "../etc/passwd", "a/b", "/abs", ".hidden", "a..b", "Tiny"}) {
    EXPECT_THAT(ValidateImageName("image", bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("never a path")))
        << bad;
  }
}

TEST(CandidateId, AllowsEmailLikeIds) {
  EXPECT_OK(ValidateCandidateId("candidate", "Zhang.Wei@centre-7"));
  EXPECT_THAT(ValidateCandidateId("candidate", "a b"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateCandidateId("candidate", "-x"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SessionName, RefusesPathsAndCapitals) {
  EXPECT_OK(ValidateSessionName("name", "exam-2026-12-01-am"));
  EXPECT_OK(ValidateSessionName("name", std::string(63, 'a')));
  for (const char* bad : {"", "-a", "../x", "a/b", "Exam", "a b", "a.b"}) {
    EXPECT_THAT(ValidateSessionName("name", bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")))
        << bad;
  }
  EXPECT_THAT(ValidateSessionName("name", std::string(64, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FileName, RefusesDotsAndSlashes) {
  EXPECT_OK(ValidateFileName("file", "disk.qcow2"));
  for (const char* bad : {"", ".", "..", "a/b", "a\nb"}) {
    EXPECT_THAT(ValidateFileName("file", bad), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(PasswordHash, AllowsCryptHashesOnlyAsNothingCanReachTheKernelCommandLine) {
  EXPECT_OK(ValidatePasswordHash("console_password_hash",
                                 "$6$Qb3x9.Zf/k2$ZCo3m8bV1Zq0J6kG.7fT0mO1uY5c2a"));
  for (const char* bad : {"", "$", "6$salt$hash", "$6$salt$hash labrack.node=x", "$6$a\nb",
                          "$6$salt$h\"ash"}) {
    EXPECT_THAT(ValidatePasswordHash("console_password_hash", bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("console_password_hash")))
        << bad;
  }
  EXPECT_THAT(ValidatePasswordHash("h", "$" + std::string(256, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(NodeChoice, NamesTheEntryAndTheRule) {
  const std::set<std::string> known = {"server", "storage"};
  EXPECT_OK(ValidateNodeChoice("s1", known, {}));
  EXPECT_OK(ValidateNodeChoice("s1", known, {"storage", "server"}));
  EXPECT_THAT(ValidateNodeChoice("s1", known, {"server", "nosuch"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nodes[1]: sandbox s1 has no node 'nosuch'")));
  EXPECT_THAT(ValidateNodeChoice("s1", known, {"server", "server"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nodes[1]: node 'server' named twice")));
  EXPECT_THAT(ValidateNodeChoice("s1", known, {"a/b"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nodes[0]")));
}

TEST(DerivedNames, FollowTheDesign) {
  const std::string id = "6f1c2a9e-8d3b-4f6a-9c1d-2e3f4a5b6c7d";
  EXPECT_EQ(DomainName(id, "server"), "lr-6f1c2a9e-server");
  EXPECT_EQ(NetworkName(id, "lan"), "lr-6f1c2a9e-lan");
  EXPECT_EQ(BridgeName(id, 3), "lr6f1c2a9e3");
  EXPECT_LE(BridgeName(id, 99999).size(), 15u);
  EXPECT_EQ(TapName(id, 0, 1), "lr6f1c2a9ev0001");
  EXPECT_EQ(TapName(id, 31, 15), "lr6f1c2a9ev1f0f");
  EXPECT_LE(TapName(id, 255, 255).size(), 15u);
}

TEST(DerivedNames, BridgeNamesAreToldFromTapsAndOtherInterfaces) {
  const std::string id = "6f1c2a9e-8d3b-4f6a-9c1d-2e3f4a5b6c7d";
  EXPECT_TRUE(IsBridgeName(BridgeName(id, 0)));
  EXPECT_TRUE(IsBridgeName(BridgeName(id, 99999)));
  EXPECT_FALSE(IsBridgeName(TapName(id, 0, 1))) << "a tap is no bridge of ours";
  EXPECT_FALSE(IsBridgeName("lr6f1c2a9e")) << "no index";
  EXPECT_FALSE(IsBridgeName("lr6F1C2A9E0")) << "capital hex";
  EXPECT_FALSE(IsBridgeName("lrtbr12345")) << "not hex";
  EXPECT_FALSE(IsBridgeName("virbr0"));
  EXPECT_FALSE(IsBridgeName("lr6f1c2a9e123456")) << "longer than an interface name";
  EXPECT_TRUE(ValidateBridgeName("bridge", BridgeName(id, 0)).ok());
  absl::Status refused = ValidateBridgeName("bridge", "eth0");
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.message()), ::testing::HasSubstr("bridge: 'eth0'"));
}

}  // namespace
}  // namespace labrack
