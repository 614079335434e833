// The candidates file of `session create`: what is read, what is skipped, and errors that
// name the file and the line.
#include "cli/candidates_file.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labrack::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CandidatesFile, ReadsTheFirstColumnSkippingHeaderCommentsAndBlankLines) {
  absl::StatusOr<std::vector<std::string>> ids = ParseCandidates(
      "Candidate,Name\n"
      "# room 101\n"
      "c01,Ana Li\n"
      "\n"
      "   \n"
      "c02 , Bo Wang\r\n"
      "  # late registration\n"
      "c03\n",
      "exam.csv");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre("c01", "c02", "c03"));
}

TEST(CandidatesFile, UnquotesQuotedCells) {
  absl::StatusOr<std::vector<std::string>> ids =
      ParseCandidates("\"c01\",\"Li, Ana\"\n\"c02\"\"x\"\n \"c03\" ,\"say \"\"hi\"\"\"\n", "f.csv");
  ASSERT_FALSE(ids.ok());  // c02"x is not a valid candidate id
  EXPECT_THAT(ids.status().message(), HasSubstr("f.csv: line 2: candidate"));
  ids = ParseCandidates("\"c01\",\"Li, Ana\"\n \"c03\" ,\"say \"\"hi\"\"\"\n", "f.csv");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre("c01", "c03"));
}

TEST(CandidatesFile, AHeaderIsOnlyTheFirstLineSoALaterCandidateNamedSoIsKept) {
  absl::StatusOr<std::vector<std::string>> ids = ParseCandidates("c01\ncandidate\n", "f.csv");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre("c01", "candidate"));
}

TEST(CandidatesFile, ADuplicateNamesBothLines) {
  absl::StatusOr<std::vector<std::string>> ids =
      ParseCandidates("candidate\nc01\nc03\nc02\n# x\n\nc03,again\n", "exam.csv");
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ids.status().message(), "exam.csv: line 7: candidate c03 also on line 3");
}

TEST(CandidatesFile, AnEmptyIdNamesItsLine) {
  absl::StatusOr<std::vector<std::string>> ids = ParseCandidates("c01\n,Bo Wang\n", "f.csv");
  ASSERT_FALSE(ids.ok());
  EXPECT_THAT(ids.status().message(), HasSubstr("f.csv: line 2: the first column"));
  EXPECT_THAT(ids.status().message(), HasSubstr("empty"));
}

TEST(CandidatesFile, AnUnterminatedQuoteNamesItsLine) {
  absl::StatusOr<std::vector<std::string>> ids = ParseCandidates("c01\n\"c02,x\n", "f.csv");
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().message(), "f.csv: line 2: a quoted cell has no closing quote");
}

TEST(CandidatesFile, AnInvalidIdIsRefusedWithTheRule) {
  absl::StatusOr<std::vector<std::string>> ids = ParseCandidates("c01\nc 02\n", "f.csv");
  ASSERT_FALSE(ids.ok());
  EXPECT_THAT(ids.status().message(), HasSubstr("f.csv: line 2: candidate \"c 02\": must be"));
}

TEST(CandidatesFile, AFileWithoutCandidatesIsAnError) {
  for (const char* text : {"", "candidate,name\n", "# nobody yet\n\n"}) {
    absl::StatusOr<std::vector<std::string>> ids = ParseCandidates(text, "empty.csv");
    ASSERT_FALSE(ids.ok()) << text;
    EXPECT_THAT(ids.status().message(), HasSubstr("empty.csv: no candidates")) << text;
  }
}

TEST(CandidatesFile, AByteOrderMarkFromASpreadsheetIsIgnored) {
  absl::StatusOr<std::vector<std::string>> ids = ParseCandidates(
      "\xEF\xBB\xBF"
      "candidate,name\nc01,A\n",
      "f.csv");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre("c01"));
}

TEST(CandidatesFile, DashReadsStdin) {
  std::istringstream in("c01\nc02\n");
  absl::StatusOr<std::vector<std::string>> ids = ReadCandidatesFile("-", in);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre("c01", "c02"));
  std::istringstream dup("c01\nc01\n");
  EXPECT_EQ(ReadCandidatesFile("-", dup).status().message(),
            "<stdin>: line 2: candidate c01 also on line 1");
}

TEST(CandidatesFile, AMissingFileIsNotFoundNamingIt) {
  std::istringstream in;
  absl::Status status = ReadCandidatesFile("/nonexistent/exam.csv", in).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("/nonexistent/exam.csv"));
}

}  // namespace
}  // namespace labrack::cli
