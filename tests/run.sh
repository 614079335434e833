#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs dependencies, starts
# libvirt, builds (through ccache, kept outside the clone), builds the tiny and linkemu
# guest images, and runs every test with ctest, two at a time; tests that boot guests or
# take every core run alone (RUN_SERIAL). Extra arguments go to ctest (e.g. tests/run.sh
# -L libvirt). Without any, the "long" runs (the 200-operation fault loop) are left out:
# tests/run.sh -L long runs them.
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
deploy/start-libvirt.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
images/build.sh tiny
images/build.sh linkemu

if [ $# -eq 0 ]; then set -- -LE long; fi
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
