// The worker-logic tests' fixture: a SandboxManager over FakeHypervisor (whose guests print
// their readiness marker at start) with the fake tiny image imported, the two-node "mini"
// spec, and hypervisor wrappers that inject what a busy or failing host does.
#ifndef LABRACK_WORKER_SANDBOX_SANDBOX_MANAGER_TEST_FIXTURE_H_
#define LABRACK_WORKER_SANDBOX_SANDBOX_MANAGER_TEST_FIXTURE_H_

#include <google/protobuf/text_format.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/names.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"
#include "worker/hypervisor/fake_hypervisor.h"
#include "worker/hypervisor/forwarding_hypervisor.h"
#include "worker/sandbox/sandbox_manager.h"
#include "worker/sandbox/sandbox_plan.h"

namespace labrack::worker {

inline constexpr char kSpec[] = R"pb(
  sandbox_id: "0123abcd-0000-4000-8000-000000000001"
  generation: 1
  candidate: "cand-1"
  topology {
    name: "mini"
    networks { name: "lan" cidr: "10.10.1.0/24" }
    nodes {
      name: "server" role: NODE_ROLE_SERVER image: "tiny" vcpus: 1 memory_mib: 128
      nics { network: "lan" }
    }
    nodes {
      name: "storage" role: NODE_ROLE_STORAGE image: "tiny" vcpus: 1 memory_mib: 128
      nics { network: "lan" }
      disks { name: "d0" size_mib: 1024 }
      disks { name: "d1" size_mib: 1024 }
    }
  }
)pb";

inline v1::SandboxSpec Spec(const std::string& id = "") {
  v1::SandboxSpec spec;
  google::protobuf::TextFormat::ParseFromString(kSpec, &spec);
  if (!id.empty()) spec.set_sandbox_id(id);
  return spec;
}

// Fails every volume creation after the first `allowed` ones.
class FailingVolumes : public ForwardingHypervisor {
 public:
  FailingVolumes(Hypervisor* target, int allowed) : ForwardingHypervisor(target), allowed_(allowed) {}
  absl::StatusOr<std::string> CreateVolume(const VolumeSpec& spec) override {
    if (allowed_.fetch_sub(1) <= 0) return absl::UnavailableError("disk full (injected)");
    return ForwardingHypervisor::CreateVolume(spec);
  }

 private:
  std::atomic<int> allowed_;
};

// Reports one domain in `state` for its first `times` lookups, as libvirt does for a domain
// it is still setting up on a busy host.
class HeldDomain : public ForwardingHypervisor {
 public:
  HeldDomain(Hypervisor* target, std::string suffix, DomainState state, int times)
      : ForwardingHypervisor(target), suffix_(std::move(suffix)), state_(state), times_(times) {}
  absl::StatusOr<DomainInfo> GetDomain(const std::string& name) override {
    absl::StatusOr<DomainInfo> info = ForwardingHypervisor::GetDomain(name);
    if (info.ok() && name.ends_with(suffix_) && times_.fetch_sub(1) > 0) info->state = state_;
    return info;
  }

 private:
  const std::string suffix_;
  const DomainState state_;
  std::atomic<int> times_;
};

// Guests whose domain names start with `prefix` print their readiness marker only when the
// test releases them.
class HeldUntilReleased : public ForwardingHypervisor {
 public:
  HeldUntilReleased(FakeHypervisor* target, std::string prefix)
      : ForwardingHypervisor(target), fake_(target), prefix_(std::move(prefix)) {}
  absl::Status StartDomain(const std::string& name) override {
    RETURN_IF_ERROR(ForwardingHypervisor::StartDomain(name));
    absl::MutexLock lock(&mu_);
    if (!name.starts_with(prefix_) || released_) return absl::OkStatus();
    absl::StatusOr<DomainSpec> spec = fake_->DomainDefinition(name);
    RETURN_IF_ERROR(spec.status());
    std::ofstream(spec->serial_log, std::ios::trunc) << "booting\r\n";
    held_.push_back(*spec);
    return absl::OkStatus();
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
    for (const DomainSpec& spec : held_) {
      std::ofstream(spec.serial_log, std::ios::app) << "LABRACK-READY node=" << spec.tag.node << "\r\n";
    }
  }

 private:
  FakeHypervisor* const fake_;
  const std::string prefix_;
  absl::Mutex mu_;
  bool released_ = false;
  std::vector<DomainSpec> held_;
};

class SandboxManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = labrack::testing::MakeTempDir("sandbox-manager");
    auto cache = ImageCache::Open(root_ + "/images");
    ASSERT_OK(cache);
    images_ = *std::move(cache);
    ASSERT_OK(images_->ImportFromFolder(labrack::testing::WriteFakeImage(root_ + "/src", "tiny"),
                                        root_ + "/src"));
    config_.host_id = "host-a";
    config_.state_dir = root_ + "/state";
    config_.ready_timeout = absl::Seconds(2);
    Restart(&fake_);
  }
  void TearDown() override {
    manager_.reset();
    std::filesystem::remove_all(root_);
  }
  void Restart(Hypervisor* hv) {
    manager_.reset();
    auto m = SandboxManager::Create(hv, images_.get(), config_);
    ASSERT_OK(m);
    manager_ = *std::move(m);
  }

  std::string root_;
  FakeHypervisor fake_{"LABRACK-READY"};
  std::unique_ptr<ImageCache> images_;
  WorkerConfig config_;
  std::unique_ptr<SandboxManager> manager_;
};

// Two routers joined by a shaped WAN, on a host whose kernel has netem.
inline v1::SandboxSpec ShapedSpec() {
  v1::SandboxSpec spec;
  google::protobuf::TextFormat::ParseFromString(R"pb(
    sandbox_id: "0123abcd-0000-4000-8000-000000000002"
    generation: 1
    topology {
      name: "wan"
      networks {
        name: "wan" cidr: "10.99.0.0/30"
        shape { bandwidth_kbps: 10000 latency_ms: 40 loss_percent: 0.5 }
      }
      nodes {
        name: "r1" role: NODE_ROLE_ROUTER image: "tiny" vcpus: 1 memory_mib: 128
        nics { network: "wan" }
      }
      nodes {
        name: "r2" role: NODE_ROLE_ROUTER image: "tiny" vcpus: 1 memory_mib: 128
        nics { network: "wan" }
      }
    }
  )pb", &spec);
  return spec;
}

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SANDBOX_SANDBOX_MANAGER_TEST_FIXTURE_H_
