#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs dependencies, starts
# libvirt, builds, builds the tiny and linkemu guest images, and runs every test with ctest.
# Extra arguments go to ctest (e.g. tests/run.sh -L libvirt).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
deploy/start-libvirt.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
images/build.sh tiny
images/build.sh linkemu

ctest --test-dir build --output-on-failure "$@"
