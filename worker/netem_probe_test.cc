// Tests of the host netem probe with stand-in `unshare` programs: what the probe concludes
// from the child's exit, a missing program and a child that hangs.
#include "worker/netem_probe.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"

namespace labrack::worker {
namespace {

class NetemProbe : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("netem-probe"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // An executable shell script standing in for unshare.
  std::string Script(const std::string& name, const std::string& body) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    chmod(path.c_str(), 0755);
    return path;
  }

  std::string dir_;
};

TEST_F(NetemProbe, ReportsNetemWhenTheQdiscCouldBeAdded) {
  // Records its arguments, so the test also sees that only a private namespace is touched.
  std::string args = dir_ + "/args";
  NetemProbeResult r = ProbeHostNetem(Script("unshare", "echo \"$@\" > " + args));
  EXPECT_TRUE(r.available) << r.reason;
  std::ifstream in(args);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "--net tc qdisc add dev lo root netem delay 1ms");
}

TEST_F(NetemProbe, ReportsNoNetemWhenTcRefusesTheQdisc) {
  NetemProbeResult r = ProbeHostNetem(Script("unshare", "exit 2"));
  EXPECT_FALSE(r.available);
  EXPECT_NE(r.reason.find("link-emulator guest"), std::string::npos) << r.reason;
}

TEST_F(NetemProbe, ReportsNoNetemWhenTheProgramIsMissing) {
  NetemProbeResult r = ProbeHostNetem(dir_ + "/no-such-unshare");
  EXPECT_FALSE(r.available);
}

TEST_F(NetemProbe, GivesUpOnAChildThatHangs) {
  absl::Time start = absl::Now();
  NetemProbeResult r = ProbeHostNetem(Script("unshare", "exec sleep 30"), absl::Milliseconds(300));
  EXPECT_FALSE(r.available);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_NE(r.reason.find("in time"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace labrack::worker
