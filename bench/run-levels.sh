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

state=$(mktemp -d /tmp/labrack-bench-levels.XXXXXX)
chmod 755 "$state"  # qemu reads the worker's volumes below it
host_id="bench-levels-$$"
controller_pid=
server=

ctl() { "$BUILD_DIR/bin/labrackctl" --server "$server" "$@"; }
say() { echo "run-levels: $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
json_field() { grep -o "\"$1\": *\"[^\"]*\"" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/'; }

cleanup() {
  set +e
  if [[ -n $controller_pid ]] && kill -0 "$controller_pid" 2>/dev/null; then
    for id in $(ctl -o json sandbox list 2>/dev/null | grep -o '"sandboxId": *"[^"]*"' |
                sed 's/.*"\([^"]*\)"$/\1/'); do
      ctl sandbox destroy "$id" --wait >/dev/null || say "destroy of $id failed"
    done
    kill -TERM "$controller_pid"
    for _ in $(seq 1 100); do kill -0 "$controller_pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$controller_pid" 2>/dev/null && kill -KILL "$controller_pid"
    wait "$controller_pid" 2>/dev/null
  fi
  # Anything a killed controller left: this host's guests and networks carry its id.
  for d in $(virsh list --all --name | grep '^lr-'); do
    if virsh dumpxml "$d" 2>/dev/null | grep -q "<labrack:host>$host_id<"; then
      virsh -q destroy "$d" >/dev/null 2>&1; virsh -q undefine "$d" >/dev/null 2>&1
    fi
  done
  for n in $(virsh net-list --all --name | grep '^lr-'); do
    if virsh net-dumpxml "$n" 2>/dev/null | grep -q "<labrack:host>$host_id<"; then
      virsh -q net-destroy "$n" >/dev/null 2>&1; virsh -q net-undefine "$n" >/dev/null 2>&1
    fi
  done
  if virsh -q pool-info "labrack-$host_id" >/dev/null 2>&1; then
    virsh -q pool-destroy "labrack-$host_id" >/dev/null 2>&1
    virsh -q pool-undefine "labrack-$host_id" >/dev/null 2>&1
  fi
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting labrack-controller --all-in-one (state in $state)"
"$BUILD_DIR/bin/labrack-controller" --all-in-one --listen 127.0.0.1:0 --state-dir "$state" \
  --port-file "$state/port" --host-id "$host_id" --domain-type qemu --cpu-overcommit 64 \
  --ready-timeout 900 >"$state/controller.log" 2>&1 </dev/null &
controller_pid=$!
for _ in $(seq 1 150); do [[ -s $state/port ]] && break; sleep 0.2; done
server="127.0.0.1:$(cat "$state/port")"
for _ in $(seq 1 150); do ctl host list 2>/dev/null | grep -q HEALTHY && break; sleep 0.2; done
ctl image import images/out/tiny/manifest.yaml >/dev/null
ctl image import images/out/linkemu/manifest.yaml >/dev/null
for level in senior junior-ops; do
  overrides=()
  for image in $(grep -o 'image: [a-z0-9.-]*' "topologies/$level.yaml" | awk '{print $2}' | sort -u); do
    overrides+=(--image-override "$image=tiny")
  done
  ctl topology apply "topologies/$level.yaml" "${overrides[@]}" >/dev/null
done

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
