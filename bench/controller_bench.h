// The controller benchmark's parts, each a plain function of its options so that
// controller_bench.cc only parses flags: create-to-ready latency through the controller
// against the worker alone (fake and real guests), a burst of sandboxes on one host, and
// GetSandbox throughput. Each prints its numbers and removes everything it made, also when
// it fails or is interrupted. Not thread-safe: one part runs at a time.
#ifndef LABRACK_BENCH_CONTROLLER_BENCH_H_
#define LABRACK_BENCH_CONTROLLER_BENCH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace labrack::bench {

struct CommonOptions {
  std::string image_dir = "images/out/tiny";        // a built image folder (manifest.yaml)
  std::string topology = "topologies/smoke.yaml";  // its nodes use that image's name
  std::string libvirt_uri = "qemu:///system";
};

// Part 1a: FakeHypervisor workers, whose guests are ready as soon as they start.
struct FakeLatencyOptions {
  CommonOptions common;
  int iterations = 50;
  int warmup = 3;  // runs before the measured ones, not counted
};
absl::Status RunFakeLatency(const FakeLatencyOptions& options);

// Part 1b: real guests on libvirt, host id bench-<pid>.
struct LibvirtLatencyOptions {
  CommonOptions common;
  int runs = 5;
  absl::Duration ready_timeout = absl::Seconds(300);
};
absl::Status RunLibvirtLatency(const LibvirtLatencyOptions& options);

// Part 2: `sandboxes` created at once on one all-in-one host, then destroyed at once.
struct BurstOptions {
  CommonOptions common;
  int sandboxes = 20;
  double cpu_overcommit = 32;
  // Blank disks are sparse; 20 smoke labs reserve 80 GiB, more than the free disk here.
  double disk_overcommit = 2;
  absl::Duration ready_timeout = absl::Seconds(900);
  absl::Duration poll = absl::Milliseconds(200);  // how often the driver looks for progress
};
absl::Status RunBurst(const BurstOptions& options);

// Part 3: GetSandbox of one READY sandbox with 1, 2, 4 and 8 client threads, through
// Google Benchmark; `benchmark_args` are its flags (--benchmark_out=...).
struct GetRateOptions {
  CommonOptions common;
  double min_time_s = 3;
  std::vector<std::string> benchmark_args;
};
absl::Status RunGetRate(const GetRateOptions& options);

// Part 4: assignment from a warm pool: the store transaction alone over `store_members`
// READY idle sandboxes, then a pool of `size` one-node sandboxes (real guests) on one
// all-in-one host: fill time, AssignFromPool latency while it refills, refill time.
struct PoolAssignOptions {
  CommonOptions common;
  int store_members = 1000;
  int size = 20;
  double cpu_overcommit = 32;
  absl::Duration ready_timeout = absl::Seconds(900);
};
absl::Status RunPoolAssign(const PoolAssignOptions& options);

// Removes what a run of process `pid` that was killed left: libvirt objects of host
// bench-<pid>, its pool labrack-bench-<pid> and its temp folders.
absl::Status RunCleanup(const CommonOptions& options, int pid);

}  // namespace labrack::bench

#endif  // LABRACK_BENCH_CONTROLLER_BENCH_H_
