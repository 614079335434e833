// Resetting some nodes of a sandbox, in-process (controller_test_fixture.h): only those get
// fresh disks and a restart; every node moves to the next generation; bad names change
// nothing. A node that fails to come up is replaced the same way, alone.
#include <atomic>

#include "common/names.h"
#include "controller/controller_test_fixture.h"
#include "gmock/gmock.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Powers off the first start of every domain whose name ends with `suffix`, as a guest
// that crashes while booting.
class FirstBootCrashes : public worker::ForwardingHypervisor {
 public:
  FirstBootCrashes(worker::Hypervisor* target, std::string suffix)
      : ForwardingHypervisor(target), suffix_(std::move(suffix)) {}
  absl::Status StartDomain(const std::string& name) override {
    RETURN_IF_ERROR(ForwardingHypervisor::StartDomain(name));
    if (!name.ends_with(suffix_) || crashed_.exchange(true)) return absl::OkStatus();
    return ForwardingHypervisor::StopDomain(name);
  }

 private:
  const std::string suffix_;
  std::atomic<bool> crashed_{false};
};

class NodeResetTest : public ControllerTest {
 protected:
  std::unique_ptr<worker::Hypervisor> NewWorkerHypervisor() override {
    if (!crash_storage_once_) return ControllerTest::NewWorkerHypervisor();
    return std::make_unique<FirstBootCrashes>(&hv_, "-storage");
  }
  bool crash_storage_once_ = false;

  absl::StatusOr<v1::Sandbox> Reset(const std::string& id, const std::vector<std::string>& nodes) {
    v1::ResetSandboxRequest req;
    req.set_sandbox_id(id);
    for (const std::string& n : nodes) req.add_nodes(n);
    v1::Sandbox out;
    RETURN_IF_ERROR(Call(&v1::LabController::Stub::ResetSandbox, req, &out));
    return out;
  }
  int Starts(const std::string& id, const std::string& node) {
    return hv_.starts(DomainName(id, node));
  }
};

TEST_F(NodeResetTest, OnlyTheNamedNodeRestartsAndEveryNodeMovesToTheNextGeneration) {
  auto s = Create("mini");
  ASSERT_OK(s);
  const std::string id = s->sandbox_id();
  ASSERT_TRUE(WaitPhase(id, v1::SANDBOX_PHASE_READY));
  auto resetting = Reset(id, {"storage"});
  ASSERT_OK(resetting);
  EXPECT_EQ(resetting->generation(), 2u);
  EXPECT_THAT(resetting->reset_nodes(), ElementsAre("storage"));
  EXPECT_THAT(resetting->message(), HasSubstr("storage"));
  ASSERT_TRUE(Eventually([&] {
    v1::Sandbox now = Get(id);
    return now.phase() == v1::SANDBOX_PHASE_READY && now.generation() == 2;
  })) << Get(id).message();
  EXPECT_EQ(Starts(id, "storage"), 2);
  EXPECT_EQ(Starts(id, "server"), 1) << "the server kept running";
  for (const char* node : {"server", "storage"}) {
    absl::StatusOr<worker::DomainSpec> spec = hv_.DomainDefinition(DomainName(id, node));
    ASSERT_OK(spec);
    EXPECT_EQ(spec->tag.generation, 2u) << node;
  }
  v1::Sandbox after = Get(id);
  EXPECT_TRUE(after.reset_nodes().empty());
  for (const v1::NodeStatus& n : after.nodes()) EXPECT_EQ(n.phase(), v1::NODE_PHASE_READY);
}

TEST_F(NodeResetTest, UnknownOrRepeatedNodesAreRefusedAndNothingIsReset) {
  auto s = Create("mini");
  ASSERT_OK(s);
  const std::string id = s->sandbox_id();
  ASSERT_TRUE(WaitPhase(id, v1::SANDBOX_PHASE_READY));
  EXPECT_THAT(Reset(id, {"server", "nosuch"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("nodes[1]"), HasSubstr("no node 'nosuch'"))));
  EXPECT_THAT(Reset(id, {"server", "server"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("named twice")));
  EXPECT_THAT(Reset(id, {"../x"}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nodes[0]")));
  v1::Sandbox now = Get(id);
  EXPECT_EQ(now.phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ(now.generation(), 1u);
  EXPECT_EQ(Starts(id, "server"), 1);
  EXPECT_EQ(Starts(id, "storage"), 1);
}

class NodeRepairTest : public NodeResetTest {
 protected:
  void SetUp() override {
    crash_storage_once_ = true;
    NodeResetTest::SetUp();
  }
};

TEST_F(NodeRepairTest, ANodeThatFailsToComeUpIsReplacedWithoutRebuildingTheOthers) {
  auto s = Create("mini");
  ASSERT_OK(s);
  const std::string id = s->sandbox_id();
  ASSERT_TRUE(Eventually([&] {
    v1::Sandbox now = Get(id);
    return now.phase() == v1::SANDBOX_PHASE_READY || now.phase() == v1::SANDBOX_PHASE_FAILED;
  })) << Get(id).message();
  v1::Sandbox ready = Get(id);
  ASSERT_EQ(ready.phase(), v1::SANDBOX_PHASE_READY) << ready.message();
  EXPECT_EQ(ready.generation(), 2u) << "the repair is a reset of the failed node";
  EXPECT_EQ(Starts(id, "storage"), 2);
  EXPECT_EQ(Starts(id, "server"), 1) << "the node that came up was left running";
  bool recorded = false;
  for (const v1::Event& e : Events(id)) {
    if (e.phase() == v1::SANDBOX_PHASE_RESETTING) {
      EXPECT_THAT(e.reset_nodes(), ElementsAre("storage"));
      EXPECT_THAT(e.message(), HasSubstr("failed to come up"));
      recorded = true;
    }
  }
  EXPECT_TRUE(recorded) << "the replacement is in the sandbox's history";
}

}  // namespace
}  // namespace labrack::controller
