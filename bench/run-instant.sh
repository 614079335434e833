#!/usr/bin/env bash
# Instant labs side by side: for each K (default 1 5 10), the plain virsh script, labrack
# with every node booting (cold) and labrack from templates, one after the other on this
# machine. Prints one line each and keeps them in bench/out/instant.txt, with the machine.
# Usage: bench/run-instant.sh [K...]
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/start-libvirt.sh >/dev/null
cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" --target labrack_instant_labs_bench >/dev/null
images/build.sh tiny >/dev/null
mkdir -p bench/out
out=bench/out/instant.txt
{
  echo "# $(date -u +%FT%TZ) $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(free -g | awk '/^Mem:/ { print $2 }') GiB"
  echo "# $(virsh version 2>/dev/null | awk '/Running hypervisor/ { print $3, $4 }'), domain type qemu"
} >"$out"
for k in "${@:-1 5 10}"; do
  for k1 in $k; do
    bench/plain-virsh.sh "$k1" | tee -a "$out"
    build/bin/labrack_instant_labs_bench --mode cold --k "$k1" | tee -a "$out"
    build/bin/labrack_instant_labs_bench --mode templates --k "$k1" | tee -a "$out"
  done
done
