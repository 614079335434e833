#!/usr/bin/env bash
# The plain script labrack is measured against: K sandboxes of the smoke topology (server,
# switch, storage with 4 blank 1 GiB disks; networks mgmt and lan) built with virsh alone:
# qcow2 overlays on the tiny image, isolated networks, no filtering, every sandbox and
# every node at once. Times provision -> every node printed its marker, reset -> ready
# (destroy, fresh overlays, start), destroy. Usage: bench/plain-virsh.sh K [IMAGE_DIR]
# Everything it makes is named pv<pid>-* and removed at its end, also when interrupted.
set -euo pipefail
readonly K="${1:?usage: plain-virsh.sh K [IMAGE_DIR]}"
readonly IMAGE="$(cd "${2:-images/out/tiny}" && pwd)"
readonly TAG="pv$$"
readonly WORK="$(mktemp -d /tmp/labrack-plain-XXXXXX)"
chmod 755 "$WORK"
readonly CMDLINE="$(awk -F'"' '/^cmdline:/ { print $2 }' "$IMAGE/manifest.yaml")"

cleanup() {
  local name
  for name in $(virsh list --name --all | grep "^$TAG-" || true); do
    virsh destroy "$name" >/dev/null 2>&1 || true
  done
  for name in $(virsh net-list --name --all | grep "^$TAG-" || true); do
    virsh net-destroy "$name" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# net_xml SANDBOX NET INDEX
net_xml() {
  echo "<network><name>$TAG-$1-$2</name><bridge name='${TAG}b$1n$3' stp='off' delay='0'/></network>"
}

# domain_xml SANDBOX NODE "NET..." DISKS
domain_xml() {
  local s="$1" node="$2" nets="$3" disks="$4" d="$WORK/$1" i letter net
  echo "<domain type='qemu'><name>$TAG-$s-$node</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
  echo "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>$IMAGE/vmlinuz</kernel>"
  echo "<initrd>$IMAGE/initrd.img</initrd><cmdline>$CMDLINE labrack.node=$node</cmdline></os>"
  echo "<features><acpi/><apic/></features><clock offset='utc'/><devices>"
  echo "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$d/$node-root.qcow2'/>"
  echo "<backingStore type='file'><format type='qcow2'/><source file='$IMAGE/disk.qcow2'/><backingStore/></backingStore>"
  echo "<target dev='vda' bus='virtio'/></disk>"
  for ((i = 0; i < disks; i++)); do
    letter=$(printf "\\x$(printf %x $((98 + i)))")
    echo "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$d/$node-data$i.qcow2'/>"
    echo "<target dev='vd$letter' bus='virtio'/></disk>"
  done
  for net in $nets; do
    echo "<interface type='network'><source network='$TAG-$s-$net'/><model type='virtio'/></interface>"
  done
  echo "<serial type='pty'><log file='$d/$node.log' append='off'/><target port='0'/></serial>"
  echo "<console type='pty'><target type='serial' port='0'/></console>"
  echo "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
  echo "<memballoon model='none'/></devices></domain>"
}

NODES=("server:mgmt lan:0" "switch:mgmt lan lan:0" "storage:lan:4")

# overlays SANDBOX: fresh overlays and blank disks for every node
overlays() {
  local d="$WORK/$1" spec node disks i
  mkdir -p "$d"
  for spec in "${NODES[@]}"; do
    node="${spec%%:*}"
    disks="${spec##*:}"
    rm -f "$d/$node-"*.qcow2 "$d/$node.log"
    qemu-img create -q -f qcow2 -F qcow2 -b "$IMAGE/disk.qcow2" "$d/$node-root.qcow2"
    for ((i = 0; i < disks; i++)); do qemu-img create -q -f qcow2 "$d/$node-data$i.qcow2" 1G; done
  done
}

# start_nodes SANDBOX: every node at once
start_nodes() {
  local spec node nets disks
  for spec in "${NODES[@]}"; do
    node="${spec%%:*}"
    nets="${spec#*:}"
    nets="${nets%:*}"
    disks="${spec##*:}"
    domain_xml "$1" "$node" "$nets" "$disks" >"$WORK/$1/$node.xml"
    virsh create "$WORK/$1/$node.xml" >/dev/null &
  done
  wait
}

# wait_ready SANDBOX: every node printed its marker
wait_ready() {
  local spec node
  for spec in "${NODES[@]}"; do
    node="${spec%%:*}"
    until grep -q "LABRACK-READY node=$node" "$WORK/$1/$node.log" 2>/dev/null; do sleep 0.05; done
  done
}

provision() {
  local s="$1"
  virsh net-create <(net_xml "$s" mgmt 0) >/dev/null
  virsh net-create <(net_xml "$s" lan 1) >/dev/null
  overlays "$s"
  start_nodes "$s"
  wait_ready "$s"
}

stop_nodes() {
  local spec
  for spec in "${NODES[@]}"; do virsh destroy "$TAG-$1-${spec%%:*}" >/dev/null & done
  wait
}

reset() {
  stop_nodes "$1"
  overlays "$1"
  start_nodes "$1"
  wait_ready "$1"
}

destroy() {
  stop_nodes "$1"
  virsh net-destroy "$TAG-$1-mgmt" >/dev/null
  virsh net-destroy "$TAG-$1-lan" >/dev/null
  rm -rf "${WORK:?}/$1"
}

each() {
  local s
  for ((s = 0; s < K; s++)); do "$1" "$s" & done
  wait
}

mem_used() { awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { printf "%.0f", (t - a) / 1024 }' /proc/meminfo; }

before=$(mem_used)
t=$(now); each provision; provision_s=$(since "$t")
memory=$(( $(mem_used) - before ))
t=$(now); each reset; reset_s=$(since "$t")
t=$(now); each destroy; destroy_s=$(since "$t")
echo "plain virsh K=$K: provision->ready $provision_s s, reset->ready $reset_s s, destroy $destroy_s s, host memory $memory MiB"
