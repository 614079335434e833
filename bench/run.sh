#!/usr/bin/env bash
# Runs the provisioning benchmark on this machine: builds, makes 2 GiB and 8 GiB copies of
# the tiny image, and writes Google Benchmark's JSON to bench/out/. The numbers are
# summarised by hand in docs/performance.md with the machine they came from.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/start-libvirt.sh
cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" --target labrack_provision_bench
images/build.sh tiny
for g in 2 8; do bench/make-sized-image.sh "$g" "bench/out/images/tiny-${g}g"; done
mkdir -p bench/out
build/bin/labrack_provision_bench --benchmark_out=bench/out/provision.json \
  --benchmark_out_format=json "$@"
