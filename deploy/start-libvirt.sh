#!/usr/bin/env bash
# Makes sure libvirtd and virtlogd run. Machines without systemd (containers, CI) get them
# started in the background; where they already run, nothing happens (but see the reaper
# below).
set -euo pipefail

# Without udev, /dev/kvm stays root-only instead of udev's root:kvm 0660. libvirt then
# finds KVM unusable for its qemu user while its capability probe used KVM, declares its
# cached capabilities outdated on every call, and re-probes qemu for minutes per domain.
if [ -c /dev/kvm ] && getent group kvm >/dev/null && [ "$(stat -c %G:%a /dev/kvm)" != "kvm:660" ]; then
  echo "start-libvirt: giving /dev/kvm udev's usual root:kvm 0660"
  chgrp kvm /dev/kvm
  chmod 0660 /dev/kvm
fi

readonly LOG=/var/log/labrack-libvirtd.log

running() { [ -S "$1" ] && timeout 5 virsh -c qemu:///system version >/dev/null 2>&1; }

# libvirt daemonizes qemu, so a qemu that exits is reaped by the nearest subreaper, else by
# PID 1. Where PID 1 is not an init (containers), it may reap late: here a dead qemu stayed
# a zombie for about 1.5 s, and libvirt waits for it on every destroy. tini -s, started
# as libvirtd's parent, reaps at once.
wrapped() { [ "$(ps -o comm= -p "$(ps -o ppid= -p "$1" | tr -d ' ')" 2>/dev/null)" = tini ]; }
pid1_is_init() { case "$(ps -o comm= -p 1)" in systemd|init|tini|dumb-init) return 0 ;; esac; return 1; }

start_libvirtd() {
  if pid1_is_init || ! command -v tini >/dev/null; then
    libvirtd -d
  else
    setsid tini -s -- libvirtd </dev/null >>"$LOG" 2>&1 &
  fi
}

if ! pgrep -x virtlogd >/dev/null; then
  echo "start-libvirt: starting virtlogd"
  virtlogd -d
fi
pid="$(pgrep -x libvirtd || true)"
if [ -n "$pid" ] && ! pid1_is_init && command -v tini >/dev/null && ! wrapped "$pid"; then
  # Restarting libvirtd leaves running guests alone; only new ones get the reaper.
  echo "start-libvirt: restarting libvirtd (pid $pid) under tini, which reaps qemu at once"
  kill "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  pid=""
fi
if ! running /run/libvirt/libvirt-sock; then
  if [ -z "$pid" ] && ! pgrep -x libvirtd >/dev/null; then
    echo "start-libvirt: starting libvirtd"
    start_libvirtd
  fi
  for _ in $(seq 1 50); do
    running /run/libvirt/libvirt-sock && break
    sleep 0.2
  done
fi
running /run/libvirt/libvirt-sock || { echo "start-libvirt: libvirtd does not answer; see $LOG" >&2; exit 1; }
echo "start-libvirt: libvirtd and virtlogd are running"
