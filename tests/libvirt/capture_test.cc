// Capture on real qemu:///system guests through a LabWorker on loopback: what a trainer
// wrote in a guest is in a sandbox built from the captured image, and not in one built from
// the image it was captured from. The captured layer names its base by sha256 alone and
// the clone's domain states the whole chain: overlay, layer, base.
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>

#include <cstdio>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/names.h"
#include "common/topology/topology_yaml.h"
#include "common/uuid.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/libvirt/libvirt_env.h"
#include "tests/testing/status_matchers.h"

namespace labrack::worker {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::testing::HasSubstr;

constexpr char kOneServer[] = R"(name: one-server
networks:
  - name: lan
    cidr: 10.10.1.0/24
nodes:
  - name: server
    role: server
    image: tiny
    vcpus: 1
    memory_mib: 128
    nics:
      - network: lan
)";

// What a host command printed (stdout and stderr), then "exit=N".
std::string HostRun(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return "popen failed";
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  return absl::StrCat(out, "exit=", WEXITSTATUS(pclose(p)));
}

absl::StatusOr<v1::WorkerCaptureSandboxResponse> Capture(v1::LabWorker::Stub& stub,
                                                         const std::string& id,
                                                         const std::string& prefix) {
  v1::WorkerCaptureSandboxRequest req;
  req.set_sandbox_id(id);
  req.set_generation(1);
  req.set_image_prefix(prefix);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(2)));
  v1::WorkerCaptureSandboxResponse resp;
  grpc::Status s = stub.CaptureSandbox(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

class CaptureSandbox : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new LibvirtEnv();
    env_->Start();
  }
  static void TearDownTestSuite() {
    env_->Stop();  // destroys every sandbox and checks that nothing is left
    delete env_;
  }
  void SetUp() override {
    if (env_->worker() == nullptr) GTEST_SKIP() << "suite set-up failed";
  }
  // A shell on a node; the test fails when none opens.
  std::unique_ptr<labrack::testing::GuestShell> Shell(const std::string& id) {
    auto shell = env_->Shell(id, "server");
    EXPECT_OK(shell);
    return shell.ok() ? *std::move(shell) : nullptr;
  }

  static LibvirtEnv* env_;
};

LibvirtEnv* CaptureSandbox::env_ = nullptr;

TEST_F(CaptureSandbox, WhatTheTrainerWroteIsInSandboxesOfTheCapturedImageOnly) {
  const std::string prepared = NewUuid4();
  const std::string clone = NewUuid4();
  const std::string fresh = NewUuid4();
  absl::Cleanup cleanup = [&] {
    for (const std::string& id : {prepared, clone, fresh}) env_->Destroy(id).IgnoreError();
  };
  auto topology = ParseTopologyYaml(kOneServer, "one-server.yaml");
  ASSERT_OK(topology);
  auto st = env_->Create(prepared, *topology, /*wait_ready=*/true);
  ASSERT_OK(st);
  ASSERT_EQ(st->phase(), v1::SANDBOX_PHASE_READY) << st->DebugString();
  const std::string marker = absl::StrCat("lr-capture-", prepared.substr(0, 8));
  {
    auto server = Shell(prepared);
    ASSERT_NE(server, nullptr);
    ASSERT_THAT(server->Run(absl::StrCat("echo ", marker,
                                         " > /root/prepared.txt && sync && "
                                         "cat /root/prepared.txt")),
                IsOkAndHolds(absl::StrCat(marker, "\nexit=0")));
  }

  const std::string prefix = absl::StrCat("cap-", prepared.substr(0, 8));
  auto captured = Capture(env_->stub(), prepared, prefix);
  ASSERT_OK(captured);
  ASSERT_EQ(captured->images_size(), 1);
  const std::string image = prefix + "-server";
  EXPECT_EQ(captured->images(0).name(), image);
  auto layer = env_->worker()->images().Lookup(image);
  auto tiny = env_->worker()->images().Lookup("tiny");
  ASSERT_OK(layer);
  ASSERT_OK(tiny);
  const std::string tiny_sha = DiskArtifact(tiny->manifest).sha256();
  // The layer names its base relatively, by sha256, with its format.
  EXPECT_THAT(HostRun("qemu-img info -f qcow2 " + layer->disk_path),
              HasSubstr(absl::StrCat("backing file: ", tiny_sha, " (actual path: ", tiny->disk_path,
                                     ")\nbacking file format: qcow2")));
  // The trainer's guest runs on, unchanged.
  EXPECT_EQ(env_->Get(prepared)->phase(), v1::SANDBOX_PHASE_READY);
  {
    auto server = Shell(prepared);
    ASSERT_NE(server, nullptr);
    EXPECT_THAT(server->Run("cat /root/prepared.txt"),
                IsOkAndHolds(absl::StrCat(marker, "\nexit=0")));
  }

  // A sandbox of the captured image and one of its base, booting together.
  v1::Topology cloned = *topology;
  cloned.mutable_nodes(0)->set_image(image);
  absl::StatusOr<v1::SandboxStatus> sc, sf;
  std::thread boot([&] { sc = env_->Create(clone, cloned, true); });
  sf = env_->Create(fresh, *topology, true);
  boot.join();
  ASSERT_OK(sc);
  ASSERT_OK(sf);
  ASSERT_EQ(sc->phase(), v1::SANDBOX_PHASE_READY) << sc->DebugString();
  ASSERT_EQ(sf->phase(), v1::SANDBOX_PHASE_READY) << sf->DebugString();
  {
    auto server = Shell(clone);
    ASSERT_NE(server, nullptr);
    EXPECT_THAT(server->Run("cat /root/prepared.txt"),
                IsOkAndHolds(absl::StrCat(marker, "\nexit=0")));
  }
  {
    auto server = Shell(fresh);
    ASSERT_NE(server, nullptr);
    EXPECT_THAT(server->Run("test -e /root/prepared.txt"), IsOkAndHolds(std::string("exit=1")));
  }
  // libvirt runs the clone on the chain as stated: overlay -> layer -> base, then the end.
  std::string xml = HostRun("virsh -c qemu:///system dumpxml " + DomainName(clone, "server"));
  size_t at_layer = xml.find(absl::StrCat("<source file='", layer->disk_path, "'"));
  size_t at_base = xml.find(absl::StrCat("<source file='", tiny->disk_path, "'"));
  EXPECT_NE(at_layer, std::string::npos) << xml;
  EXPECT_NE(at_base, std::string::npos) << xml;
  EXPECT_LT(at_layer, at_base) << xml;
  EXPECT_THAT(xml.substr(at_base), HasSubstr("<backingStore/>"));

  for (const std::string& id : {prepared, clone, fresh}) {
    EXPECT_THAT(env_->Destroy(id), IsOkAndHolds(true)) << id;
  }
  // The images stay in the cache, the base intact under every other sandbox.
  EXPECT_OK(env_->worker()->images().Lookup(image));
  EXPECT_THAT(HostRun("qemu-img check -f qcow2 " + layer->disk_path), HasSubstr("exit=0"));
}

}  // namespace
}  // namespace labrack::worker
