// The fixture of labrackctl's in-process tests: a FakeController with one host and a
// two-node topology "lab", and helpers that run labrackctl against it with string streams.
// Not thread-safe: one test at a time, like gtest fixtures.
#ifndef LABRACK_CLI_TESTING_CLI_FIXTURE_H_
#define LABRACK_CLI_TESTING_CLI_FIXTURE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/testing/fake_controller.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace labrack::cli::testing {

// A READY sandbox AddReadySandbox can make.
inline constexpr char kReadyId[] = "5a5a5a5a-0000-4000-8000-000000000001";

template <typename T>
T ParseText(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

template <typename T>
bool ParseJson(const std::string& json, T* message) {
  return google::protobuf::util::JsonStringToMessage(json, message).ok();
}

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// RunCli("labrackctl", args...) with `input` as stdin; no terminals.
CliResult RunArgs(const std::vector<std::string>& args, const std::string& input = "");

// Polls `done` for up to 10 s; false if it never became true.
bool Eventually(const std::function<bool()>& done);

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // Removes the folders TempDir made.
  void TearDown() override;

  // labrackctl --server <fake> args...
  CliResult Run(const std::vector<std::string>& args, const std::string& input = "");
  // A READY sandbox of "lab" on host-a with nodes server and client, labelled `label`.
  void AddReadySandbox(const std::string& id, const std::string& candidate,
                       const std::string& label = "exam=cloud-1");
  // A fresh folder, removed after the test.
  std::string TempDir();

  std::unique_ptr<FakeController> fake_;
  std::vector<std::string> dirs_;
};

}  // namespace labrack::cli::testing

#endif  // LABRACK_CLI_TESTING_CLI_FIXTURE_H_
