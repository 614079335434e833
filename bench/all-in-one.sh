# Shared by the benchmarks that run an all-in-one labrack-controller on this machine:
# source it, call aio_start, use `ctl`, and aio_cleanup runs on exit (set by aio_start):
# it ends every session and destroys every sandbox still there (define aio_before_cleanup
# to do more first), stops the controller, and removes whatever a killed controller left
# of this host (guests, networks, storage pool) and its state folder.
#   aio_start NAME EXTRA-CONTROLLER-FLAGS...   sets state, host_id, controller_pid, server

BUILD_DIR=${BUILD_DIR:-build}
state=
host_id=
controller_pid=
server=

ctl() { LABRACK_TOKEN=$(cat "$state/admin.token") "$BUILD_DIR/bin/labrackctl" --server "$server" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
json_field() { grep -o "\"$1\": *\"[^\"]*\"" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/'; }

aio_cleanup() {
  set +e
  if [[ -n $controller_pid ]] && kill -0 "$controller_pid" 2>/dev/null; then
    for s in $(ctl -o json session list 2>/dev/null | grep -o '"name": *"[^"]*"' |
               sed 's/.*"\([^"]*\)"$/\1/'); do
      ctl session end "$s" --wait >/dev/null 2>&1 || echo "end of session $s failed" >&2
    done
    for id in $(ctl -o json sandbox list 2>/dev/null | grep -o '"sandboxId": *"[^"]*"' |
                sed 's/.*"\([^"]*\)"$/\1/'); do
      ctl sandbox destroy "$id" --wait >/dev/null || echo "destroy of $id failed" >&2
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
  [[ -n $state ]] && rm -rf "$state"
}

aio_start() {
  local name=$1
  shift
  state=$(mktemp -d "/tmp/labrack-bench-$name.XXXXXX")
  chmod 755 "$state"  # qemu reads the worker's volumes below it
  host_id="bench-$name-$$"
  trap aio_cleanup EXIT
  trap 'exit 130' INT TERM
  echo "starting labrack-controller --all-in-one (state in $state)" >&2
  "$BUILD_DIR/bin/labrack-controller" --all-in-one --listen 127.0.0.1:0 --state-dir "$state" \
    --port-file "$state/port" --host-id "$host_id" --domain-type qemu "$@" \
    >"$state/controller.log" 2>&1 </dev/null &
  controller_pid=$!
  for _ in $(seq 1 150); do [[ -s $state/port ]] && break; sleep 0.2; done
  server="127.0.0.1:$(cat "$state/port")"
  for _ in $(seq 1 150); do ctl host list 2>/dev/null | grep -q HEALTHY && break; sleep 0.2; done
}

# Applies topologies/NAME.yaml with every image it names replaced by tiny.
apply_with_tiny() {
  local overrides=() image
  for image in $(grep -o 'image: [a-z0-9.-]*' "topologies/$1.yaml" | awk '{print $2}' | sort -u); do
    overrides+=(--image-override "$image=tiny")
  done
  ctl topology apply "topologies/$1.yaml" "${overrides[@]}" >/dev/null
}
