// Test fixture for SqliteStore: a fresh database in its own temporary folder per test, removed
// afterwards even when the test fails, a clock the test sets, and text-format proto fixtures.
// The fixture belongs to the test's main thread; the clock may be read from any thread.
#ifndef LABRACK_CONTROLLER_STORE_STORE_TEST_FIXTURE_H_
#define LABRACK_CONTROLLER_STORE_STORE_TEST_FIXTURE_H_

#include <google/protobuf/text_format.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "controller/store/sqlite_store.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack::controller {

template <typename T>
T ParseTextProto(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "labrack-store-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << pattern;
    dir_ = pattern;
    path_ = dir_ + "/controller.db";
    ASSERT_NO_FATAL_FAILURE(Reopen());
  }

  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Closes the store and opens the file again, as a restarted controller does.
  void Reopen() {
    store_.reset();
    SqliteStoreOptions options;
    options.clock = [this] { return Now(); };
    auto store = SqliteStore::Open(path_, std::move(options));
    ASSERT_OK(store);
    store_ = *std::move(store);
  }

  absl::Time Now() const { return absl::FromUnixMicros(now_micros_.load()); }
  void Advance(absl::Duration d) { now_micros_ += absl::ToInt64Microseconds(d); }

  // Registers `host_id` with the given memory (and ample vCPUs and disk).
  void AddHost(const std::string& host_id, uint64_t memory_mib) {
    v1::Inventory inventory;
    inventory.mutable_total()->set_vcpus(64);
    inventory.mutable_total()->set_memory_mib(memory_mib);
    inventory.mutable_total()->set_disk_mib(1 << 20);
    ASSERT_OK(store_->UpsertHost(host_id, host_id + ":7443", inventory, Now()));
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
  std::atomic<int64_t> now_micros_{absl::ToUnixMicros(absl::FromUnixSeconds(1'700'000'000))};
};

// A sandbox of topology "web" reserving `memory_mib`, ready for CreateSandbox.
inline v1::Sandbox NewSandbox(const std::string& sandbox_id, uint64_t memory_mib = 512,
                              const std::string& request_id = "") {
  v1::Sandbox sandbox;
  sandbox.set_sandbox_id(sandbox_id);
  sandbox.set_request_id(request_id);
  sandbox.set_topology("web");
  sandbox.set_topology_version(1);
  sandbox.set_candidate("alice");
  sandbox.set_phase(v1::SANDBOX_PHASE_SCHEDULED);
  sandbox.mutable_reserved()->set_vcpus(1);
  sandbox.mutable_reserved()->set_memory_mib(memory_mib);
  sandbox.mutable_reserved()->set_disk_mib(1024);
  return sandbox;
}

inline v1::Topology WebTopology() {
  return ParseTextProto<v1::Topology>(R"pb(
    name: "web"
    nodes {
      name: "server"
      image: "tiny"
      vcpus: 1
      memory_mib: 512
      nics { network: "lan" address: "10.0.0.2/24" }
    }
    networks { name: "lan" cidr: "10.0.0.0/24" }
  )pb");
}

// Places every sandbox on `host_id`.
inline PlaceFn PlaceOn(const std::string& host_id) {
  return
      [host_id](const std::vector<HostRecord>&) -> absl::StatusOr<std::string> { return host_id; };
}

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_STORE_STORE_TEST_FIXTURE_H_
