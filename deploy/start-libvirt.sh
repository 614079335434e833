#!/usr/bin/env bash
# Makes sure libvirtd and virtlogd run. Machines without systemd (containers, CI) get them
# started in the background; where they already run, nothing happens.
set -euo pipefail

# Without udev, /dev/kvm stays root-only instead of udev's root:kvm 0660. libvirt then
# finds KVM unusable for its qemu user while its capability probe used KVM, declares its
# cached capabilities outdated on every call, and re-probes qemu for minutes per domain.
if [ -c /dev/kvm ] && getent group kvm >/dev/null && [ "$(stat -c %G:%a /dev/kvm)" != "kvm:660" ]; then
  echo "start-libvirt: giving /dev/kvm udev's usual root:kvm 0660"
  chgrp kvm /dev/kvm
  chmod 0660 /dev/kvm
fi

running() { [ -S "$1" ] && timeout 5 virsh -c qemu:///system version >/dev/null 2>&1; }

if ! pgrep -x virtlogd >/dev/null; then
  echo "start-libvirt: starting virtlogd"
  virtlogd -d
fi
if ! running /run/libvirt/libvirt-sock; then
  if ! pgrep -x libvirtd >/dev/null; then
    echo "start-libvirt: starting libvirtd"
    libvirtd -d
  fi
  for _ in $(seq 1 50); do
    running /run/libvirt/libvirt-sock && break
    sleep 0.2
  done
fi
running /run/libvirt/libvirt-sock || { echo "start-libvirt: libvirtd does not answer" >&2; exit 1; }
echo "start-libvirt: libvirtd and virtlogd are running"
