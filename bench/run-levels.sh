#!/usr/bin/env bash
# Benchmarks of the standard's level topologies on this machine, through the all-in-one
# controller and labrackctl, every image overridden by tiny (as in CI):
#   senior      create-to-ready of the largest topology (15 nodes and the WAN link's
#               emulator), RUNS times (default 3), each destroyed before the next;
#   junior-ops  sandboxes created one after another, each waited to READY, until the
#               controller refuses one for capacity: how many fit on this host by memory
#               (vCPUs are overcommitted 64 to 1 so that memory decides), with the time to
#               ready of each and the memory the guests really use once all run.
# Output goes to bench/out/levels-<part>.txt; docs/performance.md summarises it. Whatever
# happens (also Ctrl-C), every sandbox, the controller, its pool and its folder go.
#
#   bench/run-levels.sh                 both parts
#   RUNS=1 bench/run-levels.sh senior
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
RUNS=${RUNS:-3}
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(senior junior-ops)

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target labrack-controller labrackctl >/dev/null
deploy/start-libvirt.sh
[[ -f images/out/tiny/manifest.yaml ]] || images/build.sh tiny
[[ -f images/out/linkemu/manifest.yaml ]] || images/build.sh linkemu
mkdir -p bench/out

. bench/all-in-one.sh
say() { echo "run-levels: $*" >&2; }
aio_start levels --cpu-overcommit 64 --ready-timeout 900
ctl image import images/out/tiny/manifest.yaml >/dev/null
ctl image import images/out/linkemu/manifest.yaml >/dev/null
for level in senior junior-ops; do apply_with_tiny "$level"; done

header() {
  echo "# $(date -u +%FT%TZ) $(hostname): $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB," \
       "$(uname -r), $(virsh --version 2>/dev/null | sed 's/^/libvirt /'), $(git rev-parse --short HEAD)," \
       "guests under TCG (domain type qemu), every image overridden by tiny"
}

# Resident memory (MiB) of the qemu processes of this host's guests.
guests_rss_mib() {
  local total=0 d pid rss
  for d in $(virsh list --name | grep '^lr-'); do
    pid=$(cat "/run/libvirt/qemu/$d.pid" 2>/dev/null) || continue
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
    total=$((total + ${rss:-0}))
  done
  echo $((total / 1024))
}

bench_senior() {
  header
  echo "senior: create --wait to READY, then destroy --wait; $RUNS runs"
  for run in $(seq 1 "$RUNS"); do
    local start ready gone json id
    start=$(now)
    json=$(ctl -o json sandbox create --topology senior --candidate "bench-$run" --wait)
    ready=$(now)
    id=$(json_field sandboxId <<<"$json")
    local guests; guests=$(virsh list --name | grep -c "^lr-${id:0:8}-")
    ctl sandbox destroy "$id" --wait >/dev/null
    gone=$(now)
    printf 'run %d: %d guests READY after %s s; destroyed in %s s\n' "$run" "$guests" \
      "$(elapsed "$start" "$ready")" "$(elapsed "$ready" "$gone")"
  done
}

bench_junior_ops() {
  header
  echo "junior-ops: created one after another (create --wait) until the controller refuses"
  local count=0 start ready json rc
  while :; do
    start=$(now)
    set +e
    json=$(ctl -o json sandbox create --topology junior-ops --candidate "bench-$count" --wait 2>"$state/err")
    rc=$?
    set -e
    ready=$(now)
    if [[ $rc == 6 ]]; then
      echo "sandbox $((count + 1)) refused: $(tr '\n' ' ' <"$state/err")"
      break
    fi
    [[ $rc == 0 ]] || { say "create failed ($rc): $(cat "$state/err")"; exit 1; }
    count=$((count + 1))
    printf 'sandbox %d: READY after %s s; %d guests running, their qemu processes hold %d MiB\n' \
      "$count" "$(elapsed "$start" "$ready")" "$(virsh list --name | grep -c '^lr-')" "$(guests_rss_mib)"
  done
  echo "fit: $count junior-ops sandboxes ($((count * 6)) guests)"
  echo "host: $(free -m | awk '/Mem:/ {printf "%d MiB used of %d MiB", $3, $2}') with all of them running"
  ctl host list
}

for part in "${parts[@]}"; do
  case "$part" in
    senior) bench_senior | tee bench/out/levels-senior.txt ;;
    junior-ops) bench_junior_ops | tee bench/out/levels-junior-ops.txt ;;
    *) say "unknown part $part (senior, junior-ops)"; exit 2 ;;
  esac
done
