// The CliTest fixture and its helpers.
#include "cli/testing/cli_fixture.h"

#include <filesystem>
#include <sstream>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/cli.h"
#include "tests/testing/fake_image.h"

namespace labrack::cli::testing {

CliResult RunArgs(const std::vector<std::string>& args, const std::string& input) {
  std::vector<const char*> argv = {"labrackctl"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::istringstream in(input);
  std::ostringstream out, err;
  CliResult r;
  r.code = RunCli(static_cast<int>(argv.size()), argv.data(), in, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

bool Eventually(const std::function<bool()>& done) {
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

void CliTest::SetUp() {
  fake_ = FakeController::Start();
  ASSERT_NE(fake_, nullptr);
  fake_->AddHost(ParseText<v1::Host>(R"pb(
    host_id: "host-a"
    address: "127.0.0.1:7444"
    health: HOST_HEALTH_HEALTHY
    total { vcpus: 8 memory_mib: 16384 disk_mib: 100000 })pb"));
  fake_->AddTopology(ParseText<v1::Topology>(R"pb(
    name: "lab"
    nodes { name: "server" image: "tiny" vcpus: 1 memory_mib: 128 }
    nodes { name: "client" image: "tiny" vcpus: 1 memory_mib: 128 })pb"));
}

void CliTest::TearDown() {
  for (const std::string& dir : dirs_) std::filesystem::remove_all(dir);
}

CliResult CliTest::Run(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> full = {"--server", fake_->address()};
  full.insert(full.end(), args.begin(), args.end());
  return RunArgs(full, input);
}

void CliTest::AddReadySandbox(const std::string& id, const std::string& candidate,
                              const std::string& label) {
  v1::Sandbox s = ParseText<v1::Sandbox>(R"pb(
    topology: "lab"
    topology_version: 1
    host_id: "host-a"
    phase: SANDBOX_PHASE_READY
    generation: 1
    created_at { seconds: 1700000000 }
    nodes { name: "server" phase: NODE_PHASE_READY addresses: "10.10.0.1/24" }
    nodes { name: "client" phase: NODE_PHASE_READY addresses: "10.10.0.2/24" })pb");
  s.set_sandbox_id(id);
  s.set_candidate(candidate);
  std::vector<std::string> kv = absl::StrSplit(label, absl::MaxSplits('=', 1));
  (*s.mutable_labels())[kv[0]] = kv.size() > 1 ? kv[1] : "";
  fake_->AddSandbox(s);
}

std::string CliTest::TempDir() {
  std::string dir = labrack::testing::MakeTempDir("cli_test");
  dirs_.push_back(dir);
  return dir;
}

}  // namespace labrack::cli::testing
