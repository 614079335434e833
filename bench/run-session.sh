#!/usr/bin/env bash
# Benchmark of an exam session on this machine, through the all-in-one controller and
# labrackctl, every image of junior-ops overridden by tiny (as in CI):
#   1. a session of CANDIDATES (default 30) junior-ops candidates: created at once, or
#      refused with the capacity needed and free when the host cannot hold them all;
#   2. the largest junior-ops session the host holds (found from the refusal's numbers, or
#      CANDIDATES when it fit): time from `session create` to every guest running and to
#      every sandbox READY; then `session end --wait`: time to frozen, evidence collection
#      per candidate (from the session's report), and the end to ENDED with nothing left.
# Output goes to bench/out/session.txt; docs/performance.md summarises it. Whatever happens
# (also Ctrl-C), every sandbox, the controller, its pool and its folder go.
#
#   bench/run-session.sh
#   CANDIDATES=5 bench/run-session.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
CANDIDATES=${CANDIDATES:-30}
TOPOLOGY=junior-ops

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target labrack-controller labrackctl >/dev/null
deploy/start-libvirt.sh
[[ -f images/out/tiny/manifest.yaml ]] || images/build.sh tiny
mkdir -p bench/out

. bench/all-in-one.sh
say() { echo "run-session: $*" >&2; }
epoch() { date -d "$1" +%s.%N; }
aio_start session --cpu-overcommit 64 --ready-timeout 900
ctl image import images/out/tiny/manifest.yaml >/dev/null
apply_with_tiny "$TOPOLOGY"
nodes=$(grep -c '^  - name:' <(sed -n '/^nodes:/,$p' "topologies/$TOPOLOGY.yaml"))

candidates_file() {
  for i in $(seq 1 "$1"); do printf 'c%02d\n' "$i"; done >"$state/candidates-$1.csv"
  echo "$state/candidates-$1.csv"
}

run() {
  echo "# $(date -u +%FT%TZ) $(hostname): $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB," \
       "$(uname -r), $(git rev-parse --short HEAD), guests under TCG (domain type qemu)," \
       "every image of $TOPOLOGY overridden by tiny ($nodes guests per candidate)"
  local n=$CANDIDATES rc
  set +e
  ctl session create --name bench-full --topology "$TOPOLOGY" --candidates "$(candidates_file "$n")" \
    --duration 3h >/dev/null 2>"$state/err"
  rc=$?
  set -e
  if [[ $rc == 0 ]]; then
    echo "$n candidates: accepted"
    ctl session end bench-full --wait >/dev/null
  else
    echo "$n candidates: refused (exit $rc): $(tr '\n' ' ' <"$state/err")"
    n=$(grep -o 'can take only [0-9]*' "$state/err" | awk '{print $4}')
    [[ -n $n && $n -gt 0 ]] || { say "no session fits"; exit 1; }
  fi

  echo "session of $n candidates ($((n * nodes)) guests):"
  local start running ready end_asked frozen collected ended json guests
  start=$(now)
  ctl session create --name bench --topology "$TOPOLOGY" --candidates "$(candidates_file "$n")" \
    --duration 3h >/dev/null
  running=
  while :; do
    guests=$(virsh list --name --state-running | grep -c '^lr-' || true)
    [[ -z $running && $guests -ge $((n * nodes)) ]] && running=$(now)
    json=$(ctl -o json session get bench)
    [[ $(json_field phase <<<"$json") == SESSION_PHASE_READY ]] && break
    sleep 0.5
  done
  ready=$(now)
  [[ -n $running ]] || running=$ready
  printf '  every guest running after %s s, every sandbox READY after %s s\n' \
    "$(elapsed "$start" "$running")" "$(elapsed "$start" "$ready")"
  end_asked=$(now)
  ctl session end bench --wait >/dev/null
  ended=$(now)
  json=$(ctl -o json session get bench)
  frozen=$(epoch "$(json_field frozenAt <<<"$json")")
  collected=$(epoch "$(json_field evidenceCollectedAt <<<"$json")")
  printf '  session end: guests frozen after %s s; evidence of %d candidates in %s s (%s s each);' \
    "$(elapsed "$end_asked" "$frozen")" "$n" "$(elapsed "$frozen" "$collected")" \
    "$(awk -v a="$frozen" -v b="$collected" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / n }')"
  printf ' ENDED after %s s\n' "$(elapsed "$end_asked" "$ended")"
  echo "  report: $(grep -o '"nothingLeft": *[a-z]*' <<<"$json"); evidence $(du -sh "$state/evidence" | awk '{print $1}')"
}

run | tee bench/out/session.txt
