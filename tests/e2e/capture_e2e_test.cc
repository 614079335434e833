// Capture and clone end to end, with real processes and guests on two hosts, every
// connection TLS (controller and workers with certificates from deploy/tls.sh, labrackctl
// verifying the controller by the CA): a trainer
// writes a file on each node of a prepared sandbox; `sandbox capture` makes an image per
// node; `sandbox clone`, with the prepared sandbox's host drained, builds the clones on the
// other host, which receives the captured images from the controller like any image. Every
// clone has each node's file on that node; a sandbox of the topology with the captured
// server image in place of tiny has the server's file; a fresh sandbox has neither.
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster.h"
#include "tests/testing/status_matchers.h"

namespace labrack::e2e {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTopology[] = R"(name: class-lab
networks:
  - name: lan
    cidr: 10.30.0.0/24
nodes:
  - name: server
    role: server
    image: tiny
    vcpus: 1
    memory_mib: 128
    nics:
      - network: lan
  - name: client
    role: workstation
    image: tiny
    vcpus: 1
    memory_mib: 128
    nics:
      - network: lan
)";

template <typename Message>
Message FromJson(const CommandResult& r) {
  Message m;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &m, options).ok())
      << r.out << r.err;
  return m;
}

class CaptureE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.Start();
    if (HasFatalFailure()) GTEST_SKIP() << "the cluster did not start";
    std::string path = cluster_.dir() + "/class-lab.yaml";
    std::ofstream(path) << kTopology;
    CommandResult applied = cluster_.Ctl({"topology", "apply", path});
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
  }
  void TearDown() override { cluster_.Stop(); }

  int HostIndex(const v1::Sandbox& s) { return s.host_id() == cluster_.host_id(0) ? 0 : 1; }

  // Runs `command` on `node` of sandbox `s`; what it printed, then "exit=N".
  absl::StatusOr<std::string> Run(const v1::Sandbox& s, const std::string& node,
                                  const std::string& command) {
    ASSIGN_OR_RETURN(std::unique_ptr<testing::GuestShell> shell,
                     cluster_.Shell(HostIndex(s), s.sandbox_id(), node));
    return shell->Run(command);
  }

  // What `cat` of /root/<node>.txt answers for each node's file, on `node` of `s`.
  std::map<std::string, std::string> Files(const v1::Sandbox& s, const std::string& node) {
    std::map<std::string, std::string> files;
    for (const char* owner : {"server", "client"}) {
      absl::StatusOr<std::string> out = Run(s, node, absl::StrCat("cat /root/", owner, ".txt"));
      files[owner] = out.ok() ? *out : out.status().ToString();
    }
    return files;
  }

  v1::Sandbox CreateReady(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"-o", "json", "sandbox", "create", "--topology", "class-lab",
                                     "--candidate", "trainee", "--wait"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = cluster_.Ctl(args, "", absl::Minutes(5));
    EXPECT_EQ(r.exit_code, 0) << r.err << cluster_.LogTails();
    return FromJson<v1::Sandbox>(r);
  }

  Cluster cluster_{ClusterOptions{.tls = true}};
};

TEST_F(CaptureE2e, WhatTheTrainerWroteIsInEveryCloneAndInSandboxesOfTheCapturedImages) {
  v1::Sandbox prepared = CreateReady({});
  ASSERT_EQ(prepared.phase(), v1::SANDBOX_PHASE_READY);
  const std::string id = prepared.sandbox_id();
  for (const char* node : {"server", "client"}) {
    ASSERT_THAT(Run(prepared, node,
                    absl::StrCat("echo written-on-", node, " > /root/", node, ".txt && sync")),
                IsOkAndHolds(std::string("exit=0")))
        << node;
  }

  // Bad input is refused, naming the field, and makes nothing.
  CommandResult bad = cluster_.Ctl({"sandbox", "capture", id, "--image", "Trainer"});
  EXPECT_EQ(bad.exit_code, 4) << bad.out << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("image"));
  bad = cluster_.Ctl({"sandbox", "clone", id, "--count", "65"});
  EXPECT_EQ(bad.exit_code, 4) << bad.out << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("count: 1 to 64"));

  // Capture: one image per node, layered on tiny, in the controller's store.
  CommandResult captured =
      cluster_.Ctl({"-o", "json", "sandbox", "capture", id, "--image", "trainer"});
  ASSERT_EQ(captured.exit_code, 0) << captured.err << cluster_.LogTails();
  auto images = FromJson<v1::CaptureSandboxResponse>(captured);
  ASSERT_EQ(images.images_size(), 2);
  EXPECT_EQ(images.images(0).manifest().name(), "trainer-server");
  EXPECT_EQ(images.images(1).manifest().name(), "trainer-client");
  EXPECT_EQ(images.images(0).manifest().version(), absl::StrCat(id, ".1"));
  CommandResult listed = cluster_.Ctl({"image", "list"});
  EXPECT_THAT(listed.out, HasSubstr("trainer-server"));
  EXPECT_THAT(listed.out, HasSubstr("trainer-client"));
  // Again: the same images, nothing new.
  CommandResult again = cluster_.Ctl({"-o", "json", "sandbox", "capture", id, "--image", "trainer"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto same = FromJson<v1::CaptureSandboxResponse>(again);
  ASSERT_EQ(same.images_size(), 2);
  EXPECT_EQ(same.images(0).manifest().artifacts(0).sha256(),
            images.images(0).manifest().artifacts(0).sha256());
  // The trainer's sandbox runs on.
  EXPECT_THAT(Files(prepared, "server")["server"], "written-on-server\nexit=0");

  // Clone with the prepared sandbox's host drained: the clones go to the other host, which
  // has never seen the captured images.
  const int source_host = HostIndex(prepared);
  ASSERT_EQ(cluster_.Ctl({"host", "drain", prepared.host_id()}).exit_code, 0);
  CommandResult cloned = cluster_.Ctl({"-o", "json", "sandbox", "clone", id, "--count", "2",
                                       "--request-id", "class-a", "--wait"},
                                      "", absl::Minutes(6));
  ASSERT_EQ(cluster_.Ctl({"host", "undrain", prepared.host_id()}).exit_code, 0);
  ASSERT_EQ(cloned.exit_code, 0) << cloned.err << cluster_.LogTails();
  auto clones = FromJson<v1::CloneSandboxResponse>(cloned);
  ASSERT_EQ(clones.sandboxes_size(), 2);
  // The same request again answers with the same clones.
  CommandResult replayed =
      cluster_.Ctl({"-o", "json", "sandbox", "clone", id, "--count", "2", "--request-id", "class-a"});
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  auto replay = FromJson<v1::CloneSandboxResponse>(replayed);
  ASSERT_EQ(replay.sandboxes_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const v1::Sandbox& clone = clones.sandboxes(i);
    SCOPED_TRACE(clone.sandbox_id());
    EXPECT_EQ(replay.sandboxes(i).sandbox_id(), clone.sandbox_id());
    EXPECT_EQ(clone.phase(), v1::SANDBOX_PHASE_READY) << clone.message();
    EXPECT_EQ(clone.cloned_from(), id);
    EXPECT_NE(HostIndex(clone), source_host);
    // Each node runs its own node's capture.
    std::map<std::string, std::string> on_server = Files(clone, "server");
    EXPECT_EQ(on_server["server"], "written-on-server\nexit=0");
    EXPECT_THAT(on_server["client"], HasSubstr("exit=1"));
    EXPECT_EQ(Files(clone, "client")["client"], "written-on-client\nexit=0");
  }

  // A sandbox of the topology with the captured server image for every tiny node, and a
  // fresh one.
  v1::Sandbox from_image = CreateReady({"--image-override", "tiny=trainer-server"});
  v1::Sandbox fresh = CreateReady({});
  ASSERT_EQ(from_image.phase(), v1::SANDBOX_PHASE_READY);
  ASSERT_EQ(fresh.phase(), v1::SANDBOX_PHASE_READY);
  for (const char* node : {"server", "client"}) {
    SCOPED_TRACE(node);
    EXPECT_EQ(Files(from_image, node)["server"], "written-on-server\nexit=0");
    std::map<std::string, std::string> none = Files(fresh, node);
    EXPECT_THAT(none["server"], HasSubstr("exit=1"));
    EXPECT_THAT(none["client"], HasSubstr("exit=1"));
  }

  // Another sandbox's capture under a name taken is refused, and changes no image.
  CommandResult taken =
      cluster_.Ctl({"sandbox", "capture", fresh.sandbox_id(), "--image", "trainer"});
  EXPECT_NE(taken.exit_code, 0);
  EXPECT_THAT(taken.err, HasSubstr("'trainer-server' exists already"));
  CommandResult after = cluster_.Ctl({"-o", "json", "image", "list"});
  EXPECT_THAT(after.out, HasSubstr(absl::StrCat(id, ".1")));
  EXPECT_THAT(after.out, Not(HasSubstr(absl::StrCat(fresh.sandbox_id(), ".1"))));
}

}  // namespace
}  // namespace labrack::e2e
