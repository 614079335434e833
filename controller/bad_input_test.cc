// Hostile and careless input over the API, call by call: names with path separators, XML
// and shell metacharacters, NUL bytes, huge sizes and counts. Each is refused with
// INVALID_ARGUMENT naming the field, and nothing is created: no sandbox, session, pool,
// topology or image, and nothing on the host.
#include <functional>

#include "controller/controller_test_fixture.h"
#include "gmock/gmock.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;

struct BadCall {
  std::string what;
  std::function<absl::Status()> call;
  std::string field;  // the message names it
};

class BadInputTest : public ControllerTest {
 protected:
  absl::Status CreateSandbox(const std::function<void(v1::CreateSandboxRequest&)>& edit) {
    v1::CreateSandboxRequest req;
    req.set_topology("mini");
    req.set_candidate("cand-1");
    edit(req);
    v1::Sandbox out;
    return Call(&v1::LabController::Stub::CreateSandbox, req, &out);
  }
  absl::Status ApplyTopology(const std::function<void(v1::Topology&)>& edit) {
    auto topology = ParseTopologyYaml(kTopology, "mini.yaml");
    EXPECT_OK(topology);
    v1::ApplyTopologyRequest req;
    *req.mutable_topology() = *topology;
    req.mutable_topology()->set_name("other");
    edit(*req.mutable_topology());
    v1::TopologyRecord out;
    return Call(&v1::LabController::Stub::ApplyTopology, req, &out);
  }
  absl::Status CreateSession(const std::function<void(v1::CreateSessionRequest&)>& edit) {
    v1::CreateSessionRequest req;
    req.set_name("exam");
    req.set_topology("mini");
    req.add_candidates("c1");
    req.set_duration_seconds(3600);
    edit(req);
    v1::Session out;
    return Call(&v1::LabController::Stub::CreateSession, req, &out);
  }
  absl::Status CreatePool(const std::function<void(v1::CreatePoolRequest&)>& edit) {
    v1::CreatePoolRequest req;
    req.set_name("class");
    req.set_topology("mini");
    req.set_size(1);
    edit(req);
    v1::Pool out;
    return Call(&v1::LabController::Stub::CreatePool, req, &out);
  }
};

TEST_F(BadInputTest, EveryCallRefusesNamingTheFieldAndCreatesNothing) {
  const std::string nul("c1\0x", 4);
  const std::string id = "0123abcd-0000-4000-8000-000000000001";
  std::vector<BadCall> calls = {
      {"sandbox of a path", [&] { return CreateSandbox([](auto& r) { r.set_topology("../mini"); }); }, "topology"},
      {"candidate with a NUL", [&] { return CreateSandbox([&](auto& r) { r.set_candidate(nul); }); }, "candidate"},
      {"candidate with a slash", [&] { return CreateSandbox([](auto& r) { r.set_candidate("a/b"); }); }, "candidate"},
      {"label key with XML", [&] { return CreateSandbox([](auto& r) { (*r.mutable_labels())["<x>"] = "1"; }); }, "labels"},
      {"label value with a NUL", [&] { return CreateSandbox([&](auto& r) { (*r.mutable_labels())["k"] = nul; }); }, "labels[k]"},
      {"override to a path", [&] { return CreateSandbox([](auto& r) { (*r.mutable_image_overrides())["tiny"] = "../../etc/passwd"; }); }, "image_overrides"},
      {"ttl of years", [&] { return CreateSandbox([](auto& r) { r.set_ttl_seconds(4'000'000'000u); }); }, "ttl_seconds"},
      {"request id with a quote", [&] { return CreateSandbox([](auto& r) { r.set_request_id("x'; drop"); }); }, "request_id"},
      {"node named a path", [&] { return ApplyTopology([](auto& t) { t.mutable_nodes(0)->set_name("a/b"); }); }, "nodes[0].name"},
      {"node named XML", [&] { return ApplyTopology([](auto& t) { t.mutable_nodes(0)->set_name("<a>"); }); }, "nodes[0].name"},
      {"image named a path", [&] { return ApplyTopology([](auto& t) { t.mutable_nodes(0)->set_image("/var/lib/x.qcow2"); }); }, "nodes[0].image"},
      {"huge memory", [&] { return ApplyTopology([](auto& t) { t.mutable_nodes(0)->set_memory_mib(4'000'000'000u); }); }, "memory_mib"},
      {"huge vcpus", [&] { return ApplyTopology([](auto& t) { t.mutable_nodes(0)->set_vcpus(1u << 30); }); }, "vcpus"},
      {"huge disk", [&] { return ApplyTopology([](auto& t) { t.mutable_nodes(1)->mutable_disks(0)->set_size_mib(uint64_t{1} << 50); }); }, "size_mib"},
      {"network named with a NUL", [&] { return ApplyTopology([&](auto& t) { t.mutable_networks(0)->set_name(nul); }); }, "networks[0].name"},
      {"topology named a path", [&] { return ApplyTopology([](auto& t) { t.set_name("../../x"); }); }, "name"},
      {"session named a path", [&] { return CreateSession([](auto& r) { r.set_name("../exam"); }); }, "name"},
      {"session of a day and more", [&] { return CreateSession([](auto& r) { r.set_duration_seconds(90'000); }); }, "duration"},
      {"session without candidates", [&] { return CreateSession([](auto& r) { r.clear_candidates(); }); }, "candidates"},
      {"session candidate twice", [&] { return CreateSession([](auto& r) { r.add_candidates("c1"); }); }, "candidates"},
      {"pool of a million", [&] { return CreatePool([](auto& r) { r.set_size(1'000'000); }); }, "size"},
      {"pool of none", [&] { return CreatePool([](auto& r) { r.set_size(0); }); }, "size"},
      {"pool named with a space", [&] { return CreatePool([](auto& r) { r.set_name("a b"); }); }, "name"},
      {"get of a path", [&] {
         v1::GetSandboxRequest req;
         req.set_sandbox_id("../../controller.db");
         v1::Sandbox out;
         return Call(&v1::LabController::Stub::GetSandbox, req, &out);
       }, "sandbox_id"},
      {"reset of a node that is a path", [&] {
         v1::ResetSandboxRequest req;
         req.set_sandbox_id(id);
         req.add_nodes("../server");
         v1::Sandbox out;
         return Call(&v1::LabController::Stub::ResetSandbox, req, &out);
       }, "nodes[0]"},
      {"capture to a path", [&] {
         v1::CaptureSandboxRequest req;
         req.set_sandbox_id(id);
         req.set_image("../tiny");
         v1::CaptureSandboxResponse out;
         return Call(&v1::LabController::Stub::CaptureSandbox, req, &out);
       }, "image"},
      {"clone of thousands", [&] {
         v1::CloneSandboxRequest req;
         req.set_sandbox_id(id);
         req.set_count(5000);
         v1::CloneSandboxResponse out;
         return Call(&v1::LabController::Stub::CloneSandbox, req, &out);
       }, "count"},
  };
  for (const BadCall& c : calls) {
    EXPECT_THAT(c.call(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)))
        << c.what;
  }

  v1::ListSandboxesRequest all;
  all.set_include_destroyed(true);
  v1::ListSandboxesResponse sandboxes;
  ASSERT_OK(Call(&v1::LabController::Stub::ListSandboxes, all, &sandboxes));
  EXPECT_EQ(sandboxes.sandboxes_size(), 0);
  v1::ListSessionsRequest every_session;
  every_session.set_include_ended(true);
  v1::ListSessionsResponse sessions;
  ASSERT_OK(Call(&v1::LabController::Stub::ListSessions, every_session, &sessions));
  EXPECT_EQ(sessions.sessions_size(), 0);
  v1::ListPoolsResponse pools;
  ASSERT_OK(Call(&v1::LabController::Stub::ListPools, v1::ListPoolsRequest(), &pools));
  EXPECT_EQ(pools.pools_size(), 0);
  v1::ListTopologiesResponse topologies;
  ASSERT_OK(Call(&v1::LabController::Stub::ListTopologies, v1::ListTopologiesRequest(), &topologies));
  EXPECT_EQ(topologies.topologies_size(), 1);
  v1::ListImagesResponse images;
  ASSERT_OK(Call(&v1::LabController::Stub::ListImages, v1::ListImagesRequest(), &images));
  EXPECT_EQ(images.images_size(), 1);
  EXPECT_EQ(hv_.domain_count() + hv_.network_count() + hv_.volume_count(), 0);
}

// gRPC's own limit: a request over 8 MiB is refused before any handler sees it.
TEST_F(BadInputTest, ARequestOverTheMessageLimitIsRefusedUnread) {
  EXPECT_THAT(ApplyTopology([](v1::Topology& t) { t.set_description(std::string(9 << 20, 'x')); }),
              StatusIs(absl::StatusCode::kResourceExhausted));
  v1::ListTopologiesResponse topologies;
  ASSERT_OK(Call(&v1::LabController::Stub::ListTopologies, v1::ListTopologiesRequest(), &topologies));
  EXPECT_EQ(topologies.topologies_size(), 1);
}

}  // namespace
}  // namespace labrack::controller
