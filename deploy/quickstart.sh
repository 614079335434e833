#!/usr/bin/env bash
# From a fresh Debian 12 machine to a running lab in one command: installs the packages,
# builds labrack and the tiny and link-emulator guest images, starts libvirt and the
# all-in-one controller (controller + worker in one process; KVM where a probe guest proves
# it runs, else software emulation) in the background, imports the images, applies the
# smoke topology, creates a sandbox for a demo candidate and waits until it is ready.
#
#   deploy/quickstart.sh           bring it up (again: reuses what is running)
#   deploy/quickstart.sh --down    destroy the demo sandbox and stop the controller
#
# Settings: LABRACK_STATE_DIR (default /var/lib/labrack), LABRACK_SERVER (default
# 127.0.0.1:7443). The controller's log is <state>/controller.log; the admin token its
# first start wrote is <state>/admin.token, which labrackctl is given here.
set -euo pipefail
cd "$(dirname "$0")/.."

state=${LABRACK_STATE_DIR:-/var/lib/labrack}
server=${LABRACK_SERVER:-127.0.0.1:7443}
pid_file=$state/controller.pid
sandbox_file=$state/quickstart.sandbox
# The admin token the controller's first start wrote (unless LABRACK_TOKEN names another).
ctl() { LABRACK_TOKEN=${LABRACK_TOKEN:-$(cat "$state/admin.token" 2>/dev/null)} build/bin/labrackctl --server "$server" "$@"; }
say() { echo "quickstart: $*"; }

controller_running() { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

down() {
  if [ -f "$sandbox_file" ] && controller_running; then
    id=$(cat "$sandbox_file")
    say "destroying sandbox $id"
    ctl sandbox destroy "$id" --wait || say "destroy of $id failed; see $state/controller.log"
  fi
  rm -f "$sandbox_file"
  hosts=""
  if controller_running; then
    hosts=$(ctl -o json host list | grep -o '"hostId": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' || true)
    pid=$(cat "$pid_file")
    say "stopping labrack-controller (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "labrack-controller did not stop within 20 s; killing it"
      kill -KILL "$pid"
    fi
  fi
  rm -f "$pid_file"
  # The embedded worker's storage pool; its folder stays in the state folder with the images.
  for h in $hosts; do
    if virsh -q pool-info "labrack-$h" >/dev/null 2>&1; then
      virsh -q pool-destroy "labrack-$h" >/dev/null 2>&1 || true
      virsh -q pool-undefine "labrack-$h" >/dev/null
    fi
  done
  say "down"
}

wait_for_host() {
  for _ in $(seq 1 150); do
    if ctl host list 2>/dev/null | grep -q HEALTHY; then return 0; fi
    controller_running || { say "labrack-controller exited; its log:"; tail -n 30 "$state/controller.log"; exit 1; }
    sleep 0.2
  done
  say "no healthy host registered within 30 s; see $state/controller.log"
  exit 1
}

up() {
  deploy/install-deps.sh
  deploy/start-libvirt.sh
  say "building"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)" >/dev/null
  images/build.sh tiny
  # The link emulator: shaped links (the senior WAN) need it on hosts without netem.
  images/build.sh linkemu
  mkdir -p "$state"
  if controller_running; then
    say "labrack-controller already runs (pid $(cat "$pid_file"))"
  else
    say "starting labrack-controller --all-in-one on $server, state in $state"
    nohup build/bin/labrack-controller --all-in-one --listen "$server" --state-dir "$state" \
      >>"$state/controller.log" 2>&1 </dev/null &
    echo $! >"$pid_file"
  fi
  wait_for_host
  ctl image import images/out/tiny/manifest.yaml >/dev/null
  ctl image import images/out/linkemu/manifest.yaml >/dev/null
  ctl topology apply topologies/smoke.yaml >/dev/null
  if [ -f "$sandbox_file" ] && ctl sandbox get "$(cat "$sandbox_file")" >/dev/null 2>&1; then
    id=$(cat "$sandbox_file")
    say "the demo sandbox exists already"
  else
    say "creating a smoke sandbox for candidate demo"
    json=$(ctl -o json sandbox create --topology smoke --candidate demo --label created-by=quickstart --wait)
    id=$(printf '%s\n' "$json" | grep -o '"sandboxId": *"[^"]*"' | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/')
    echo "$id" >"$sandbox_file"
  fi
  ctl sandbox get "$id"
  echo
  ctl host list
  echo
  echo "labrackctl needs a token; the admin token is in $state/admin.token (mode 0600):"
  echo "  export LABRACK_TOKEN=\$(cat $state/admin.token)"
  echo "Reach a node's serial console (escape with Ctrl-]):"
  echo "  build/bin/labrackctl --server $server sandbox console $id --node server"
  echo "Tear everything down: deploy/quickstart.sh --down"
}

case "${1:-}" in
  --down) down ;;
  "") up ;;
  *) echo "usage: deploy/quickstart.sh [--down]" >&2; exit 2 ;;
esac
