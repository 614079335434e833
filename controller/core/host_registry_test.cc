// Hosts as the controller records them, on a real SQLite store: a heartbeat whose
// inventory says the host now runs guests another way (a worker left KVM) is an event.
#include "controller/core/host_registry.h"

#include <filesystem>

#include "controller/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"

namespace labrack::controller {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class HostRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = labrack::testing::MakeTempDir("host-registry");
    auto store = SqliteStore::Open(dir_ + "/state.db");
    ASSERT_OK(store);
    store_ = *std::move(store);
    registry_ = std::make_unique<HostRegistry>(store_.get(), &config_);
  }
  void TearDown() override {
    registry_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  v1::Inventory Inventory(const std::string& type, const std::string& reason) {
    v1::Inventory inv;
    inv.set_host_id("host-a");
    inv.set_domain_type(type);
    inv.set_domain_type_reason(reason);
    return inv;
  }
  std::vector<v1::Event> DomainTypeEvents() {
    std::vector<v1::Event> found;
    auto events = store_->ListEvents(0, "", 0);
    EXPECT_OK(events);
    if (!events.ok()) return found;
    for (const v1::Event& e : *events) {
      if (e.kind() == v1::EVENT_KIND_HOST_DOMAIN_TYPE) found.push_back(e);
    }
    return found;
  }

  std::string dir_;
  ControllerConfig config_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<HostRegistry> registry_;
};

TEST_F(HostRegistryTest, AHostThatLeavesKvmIsAnEventWithTheReason) {
  v1::RegisterHostRequest reg;
  reg.set_host_id("host-a");
  reg.set_address("127.0.0.1:7000");
  *reg.mutable_inventory() = Inventory("kvm", "image tiny's kernel under KVM printed it");
  ASSERT_OK(registry_->Register(reg));
  v1::HeartbeatRequest beat;
  beat.set_host_id("host-a");
  *beat.mutable_inventory() = Inventory("kvm", "image tiny's kernel under KVM printed it");
  ASSERT_OK(registry_->Heartbeat(beat));
  EXPECT_TRUE(DomainTypeEvents().empty());

  *beat.mutable_inventory() = Inventory("qemu", "left KVM for software emulation: MSR");
  ASSERT_OK(registry_->Heartbeat(beat));
  ASSERT_OK(registry_->Heartbeat(beat));
  std::vector<v1::Event> events = DomainTypeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].host_id(), "host-a");
  EXPECT_THAT(events[0].message(),
              AllOf(HasSubstr("now run with qemu (was kvm)"), HasSubstr("left KVM")));
  auto host = registry_->Get("host-a");
  ASSERT_OK(host);
  EXPECT_EQ(host->domain_type(), "qemu");
  EXPECT_EQ(host->domain_type_reason(), "left KVM for software emulation: MSR");
}

}  // namespace
}  // namespace labrack::controller
