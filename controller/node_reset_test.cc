// Resetting some nodes of a sandbox, in-process (controller_test_fixture.h): only those get
// fresh disks and a restart; every node moves to the next generation; bad names change
// nothing.
#include "common/names.h"
#include "controller/controller_test_fixture.h"
#include "gmock/gmock.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class NodeResetTest : public ControllerTest {
 protected:
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

}  // namespace
}  // namespace labrack::controller
