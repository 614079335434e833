#!/usr/bin/env bash
# Makes a copy of the tiny image whose base disk is SIZE_GIB GiB of real, allocated data,
# for the provisioning benchmark: the guest's filesystem stays as it is, and the space
# after it is filled with a byte pattern, so the qcow2 file really is that large.
# Usage: bench/make-sized-image.sh SIZE_GIB OUT_DIR
set -euo pipefail
size_gib=$1
out=$2
src="$(cd "$(dirname "$0")/.." && pwd)/images/out/tiny"
[ -f "$src/manifest.yaml" ] || { echo "build the tiny image first: images/build.sh tiny" >&2; exit 1; }

if [ -f "$out/manifest.yaml" ] && grep -q "^name: tiny-${size_gib}g$" "$out/manifest.yaml"; then
  echo "make-sized-image: $out is ready"
  exit 0
fi
mkdir -p "$out"
cp "$src/vmlinuz" "$src/initrd.img" "$out/"
fs_bytes=$(qemu-img info -f qcow2 --output=json "$src/disk.qcow2" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
cp "$src/disk.qcow2" "$out/disk.qcow2.tmp"
qemu-img resize -f qcow2 "$out/disk.qcow2.tmp" "${size_gib}G" >/dev/null
fill=$(( size_gib * 1024 * 1024 * 1024 - fs_bytes ))
echo "make-sized-image: writing $((fill >> 20)) MiB of data after the $((fs_bytes >> 20)) MiB filesystem"
# qemu-io refuses single requests of 2 GiB and more: write 1 GiB at a time.
step=$((1 << 30))
for ((off = fs_bytes; off < fs_bytes + fill; off += step)); do
  len=$(( fs_bytes + fill - off < step ? fs_bytes + fill - off : step ))
  qemu-io -f qcow2 -c "write -P 0x5a $off $len" "$out/disk.qcow2.tmp" >/dev/null
done
mv "$out/disk.qcow2.tmp" "$out/disk.qcow2"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# The manifest is tiny's with a new name and the disk's new hash and size.
awk -v name="tiny-${size_gib}g" -v dsha="$(sha "$out/disk.qcow2")" -v dsize="$(size "$out/disk.qcow2")" '
  /^name:/ { print "name: " name; next }
  /file: disk.qcow2/ { disk = 1 }
  disk && /sha256:/ { sub(/sha256: .*/, "sha256: " dsha) }
  disk && /size_bytes:/ { sub(/size_bytes: .*/, "size_bytes: " dsize); disk = 0 }
  { print }' "$src/manifest.yaml" > "$out/manifest.yaml"
echo "make-sized-image: $out/disk.qcow2 is $(du -h "$out/disk.qcow2" | cut -f1) on disk"
