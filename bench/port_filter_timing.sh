#!/usr/bin/env bash
# Times `virsh start` and `virsh destroy` of one tiny guest on an isolated network, with
# libvirt's nwfilter clean-traffic on its NIC (what labrack used before) and with the
# worker's nftables port filter instead (a named tap, the table written before the start).
# Run as root on a host with libvirtd, under the libvirt test lock:
#   flock /tmp/labrack-libvirt-tests.lock bench/port_filter_timing.sh [rounds]
# Everything it makes (network, domains, overlay, table) it removes, also on failure.
set -euo pipefail

readonly ROUNDS="${1:-5}"
readonly SRC="$(cd "$(dirname "$0")/.." && pwd)"
readonly IMG="$SRC/images/out/tiny"
readonly TAG="lrbench$$"
readonly NET="$TAG-net" BR="lb${$}b" TAP="lb${$}t"
readonly MAC="52:54:00:7e:57:01" IP="10.77.0.2"
readonly WORK="$(mktemp -d /tmp/port-filter-timing-XXXXXX)"
readonly TABLE="lr-bench$(printf '%04x' $(($$ % 65536)))"
V() { virsh -q -c qemu:///system "$@"; }

cleanup() {
  for d in "$TAG-nwfilter" "$TAG-nft"; do
    V destroy "$d" >/dev/null 2>&1 || true
    V undefine "$d" >/dev/null 2>&1 || true
  done
  V net-destroy "$NET" >/dev/null 2>&1 || true
  V net-undefine "$NET" >/dev/null 2>&1 || true
  nft delete table bridge "$TABLE" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

chmod 755 "$WORK"
qemu-img create -q -f qcow2 -F qcow2 -b "$IMG/disk.qcow2" "$WORK/root.qcow2"
cat >"$WORK/net.xml" <<XML
<network><name>$NET</name><bridge name='$BR' stp='off' delay='0'/></network>
XML
V net-define "$WORK/net.xml" >/dev/null && V net-start "$NET" >/dev/null

# $1 name, $2 the interface's extra XML
domain_xml() {
  cat <<XML
<domain type='qemu'><name>$1</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$IMG/vmlinuz</kernel>
    <initrd>$IMG/initrd.img</initrd><cmdline>console=ttyS0 no_timer_check root=/dev/vda rw</cmdline></os>
  <features><acpi/><apic/></features>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
      <source file='$WORK/root.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <interface type='network'><mac address='$MAC'/><source network='$NET'/>$2
      <model type='virtio'/></interface>
    <serial type='pty'><target port='0'/></serial><console type='pty'/>
  </devices></domain>
XML
}
domain_xml "$TAG-nwfilter" "<filterref filter='clean-traffic'><parameter name='IP' value='$IP'/></filterref>" \
  >"$WORK/nwfilter.xml"
domain_xml "$TAG-nft" "<target dev='$TAP'/>" >"$WORK/nft.xml"
V define "$WORK/nwfilter.xml" >/dev/null
V define "$WORK/nft.xml" >/dev/null

# The same table the worker writes (worker/hypervisor/nft_port_filter.cc), one port.
nft_script() {
  cat <<NFT
add table bridge $TABLE
delete table bridge $TABLE
table bridge $TABLE {
	chain from_guests {
		type filter hook prerouting priority -300; policy accept;
		iifname vmap { "$TAP" : jump port_$TAP }
	}
	chain from_guests_local {
		type filter hook input priority -300; policy accept;
		iifname vmap { "$TAP" : jump port_$TAP }
	}
	chain to_guests {
		type filter hook postrouting priority -300; policy accept;
		oifname { "$TAP" } ether type != { ip, arp, 0x8035 } drop
	}
	chain port_$TAP {
		ether saddr != $MAC drop
		ether type ip ip saddr $IP accept
		ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept
		ether type arp arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether $MAC arp saddr ip $IP accept
		ether type 0x8035 ether daddr ff:ff:ff:ff:ff:ff accept
		drop
	}
}
NFT
}

now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

for kind in nwfilter nft; do
  starts=() destroys=() tables=()
  for _ in $(seq 1 "$ROUNDS"); do
    if [ "$kind" = nft ]; then
      t0=$(now); nft_script | nft -f -; t1=$(now); tables+=("$(ms "$t0" "$t1")")
    fi
    t0=$(now); V start "$TAG-$kind" >/dev/null; t1=$(now)
    sleep 2  # let the guest run a little, as a sandbox's would
    t2=$(now); V destroy "$TAG-$kind" >/dev/null; t3=$(now)
    if [ "$kind" = nft ]; then nft delete table bridge "$TABLE"; fi
    starts+=("$(ms "$t0" "$t1")") destroys+=("$(ms "$t2" "$t3")")
  done
  echo "$kind: start ms ${starts[*]}; destroy ms ${destroys[*]}${tables:+; nft table ms ${tables[*]}}"
done
