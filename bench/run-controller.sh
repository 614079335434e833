#!/usr/bin/env bash
# Runs the controller benchmark on this machine: builds labrack_controller_bench, then runs
# its parts (default: all; or name them: fake-latency get-rate libvirt-latency burst
# pool-assign) and writes their output to bench/out/controller-<part>.txt (get-rate also as
# Google Benchmark JSON). The numbers are summarised by hand in docs/performance.md with the
# machine they came from. The real-guest parts take minutes and need libvirtd and the tiny
# image. Whatever happens, nothing of the run is left in libvirt or /tmp.
#
#   BUILD_DIR=build-bench BENCH_FLAGS=--verbose bench/run-controller.sh burst
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(fake-latency get-rate libvirt-latency burst pool-assign)

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target labrack_controller_bench
bin="$BUILD_DIR/bin/labrack_controller_bench"
for part in "${parts[@]}"; do
  case "$part" in
    libvirt-latency|burst|pool-assign) needs_libvirt=1 ;;
  esac
done
if [[ -n ${needs_libvirt:-} ]]; then
  deploy/start-libvirt.sh
  [[ -f images/out/tiny/manifest.yaml ]] || images/build.sh tiny
fi
mkdir -p bench/out

{
  echo "# $(date -u +%FT%TZ) $(hostname): $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB," \
       "$(uname -r), $(virsh --version 2>/dev/null | sed 's/^/libvirt /') $(git rev-parse --short HEAD)"
} | tee bench/out/controller-machine.txt

# Ctrl-C reaches the benchmark itself, which then removes what it made: wait for it (tee
# ignores SIGINT so that it does not die first). A TERM to this script is passed on.
pid=
trap '' INT
trap 'kill -TERM "$pid" 2>/dev/null || true' TERM
for part in "${parts[@]}"; do
  extra=()
  [[ $part == get-rate ]] && extra=(--benchmark_out=bench/out/controller-get-rate.json --benchmark_out_format=json)
  # shellcheck disable=SC2086  # BENCH_FLAGS: words, e.g. "--verbose"
  "$bin" ${BENCH_FLAGS:-} "$part" "${extra[@]}" > >(exec tee "bench/out/controller-$part.txt") 2>&1 &
  pid=$!
  code=0
  wait "$pid" || code=$?
  while kill -0 "$pid" 2>/dev/null; do wait "$pid" || code=$?; done  # woken by the TERM trap
  if [[ $code -ne 0 ]]; then
    # Killed or crashed: remove what its host bench-<pid> left in libvirt and /tmp.
    "$bin" cleanup --pid "$pid" || true
    exit "$code"
  fi
done

if [[ -n ${needs_libvirt:-} ]]; then
  echo "libvirt after the run (nothing of host bench-* may be listed):"
  virsh -c qemu:///system list --all --name | grep -v '^$' || echo "  no domains"
  virsh -c qemu:///system net-list --all --name | grep -v '^$' | grep -v '^default$' || echo "  no networks but default"
  virsh -c qemu:///system pool-list --all --name | grep bench || echo "  no bench pools"
fi
