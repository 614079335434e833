#!/usr/bin/env bash
# Installs everything labrack needs to build, test and run on Debian 12, from Debian's
# archive only. Idempotent: a second run installs nothing and is quick.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config ccache
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libvirt-dev libpugixml-dev libyaml-cpp-dev libsqlite3-dev libcli11-dev libspdlog-dev
  libfmt-dev libssl-dev libgtest-dev libgmock-dev googletest libbenchmark-dev
  libcrypt-dev  # crypt(3) for console password hashes
  grpc-proto  # grpc/reflection/v1/reflection.proto (the controller serves reflection v1)
  # hypervisor
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils dnsmasq-base
  iproute2 iptables ebtables nftables
  # start-libvirt.sh: a subreaper for libvirtd where PID 1 is no init (qemu reaped at once)
  tini
  # deploy/tls.sh
  openssl
  # labrackctl topology graph --format svg|png
  graphviz
  # image recipes (images/build.sh)
  busybox-static cpio e2fsprogs kmod zstd xz-utils apt-utils
  # tests/api/python_client_test.py: a client generated from proto/ alone, run with
  # /usr/bin/python3
  python3-grpcio python3-protobuf python3-grpc-tools
  # fuzzing (tests/fuzz/run.sh): clang, its libFuzzer and sanitizer runtimes, and
  # llvm-symbolizer (in llvm) for readable stack traces in crash reports
  clang libclang-rt-14-dev llvm
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
