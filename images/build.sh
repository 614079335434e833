#!/usr/bin/env bash
# Builds labrack guest images from Debian packages: `images/build.sh RECIPE`.
# Each recipe writes its artifacts and manifest.yaml to $LABRACK_IMAGES_OUT/RECIPE
# (default images/out/RECIPE), atomically, and does nothing when its inputs are unchanged.
# Needs: apt, dpkg, cpio, gzip, e2fsprogs (mkfs.ext4), qemu-utils (qemu-img), flock;
# linkemu also binutils (readelf); the debian-* recipes also root and debootstrap.
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly OUT_ROOT="${LABRACK_IMAGES_OUT:-$SCRIPT_DIR/out}"
readonly RECIPES=(tiny linkemu debian-server debian-switch debian-storage debian-workstation)

usage() {
  [[ -z ${1:-} ]] || echo "build.sh: error: $1" >&2
  echo "usage: $(basename "$0") RECIPE" >&2
  echo "recipes: ${RECIPES[*]}" >&2
  exit 2
}

die() {
  echo "build.sh: error: $*" >&2
  exit 1
}

log() {
  echo "build.sh: $*" >&2
}

# ---------------------------------------------------------------------------------------
# Debian packages

APT_UPDATED=0

apt_update_once() {
  [[ $APT_UPDATED == 0 ]] || return 1
  log "refreshing the apt package lists"
  apt-get update -qq >&2 || die "apt-get update failed"
  APT_UPDATED=1
}

# Prints "PACKAGE VERSION" for the candidate of every package "$@", and for a kernel
# metapackage among them also "KERNEL-PACKAGE VERSION" for the kernel it pins. One apt-cache
# call: with Dir::Cache::pkgcache "" (as in Docker images) each call costs about a second.
apt_candidates() {
  apt-cache show --no-all-versions "$@" 2>/dev/null | awk '
    /^Package: / { pkg = $2 }
    /^Version: / { print pkg, $2 }
    /^Depends: / && pkg ~ /^linux-image-/ && match($0, /linux-image-[0-9][^ ,]*/) {
      kernel = substr($0, RSTART, RLENGTH)
      rest = substr($0, RSTART + RLENGTH)
      version = match(rest, /^ \(= [^)]*\)/) ? substr(rest, 5, RLENGTH - 5) : ""
      print "kernel:" kernel, version
    }'
}

# Prints the version apt would install for package $1, or nothing.
apt_candidate_version() {
  apt-cache policy "$1" 2>/dev/null |
    awk '$1 == "Candidate:" && $2 != "(none)" { print $2; exit }'
}

# Downloads the pinned packages "$2..." (NAME=VERSION) into folder $1.
apt_download() {
  local dir="$1"
  shift
  local opts=()
  # As root apt drops to the _apt user, which cannot write to a private temp folder.
  [[ $EUID != 0 ]] || opts=(-o APT::Sandbox::User=root)
  (cd "$dir" && apt-get download -qq "${opts[@]}" "$@" >&2)
}

# ---------------------------------------------------------------------------------------
# Small helpers

sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

size_of() {
  stat -c %s "$1"
}

# Prints the lines of list file $1 without comments and blank lines.
read_list() {
  sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1"
}

# Prints one hash over the paths and contents of every file under folder $1.
tree_hash() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum |
    cut -d' ' -f1
}

# Installs busybox at $1/bin/busybox with a symlink for every applet it provides.
install_busybox() {
  local root="$1" busybox="$2" applet
  install -D -m 0755 "$busybox" "$root/bin/busybox"
  while read -r applet; do
    [[ $applet == bin/busybox ]] && continue
    [[ $applet != */* ]] || mkdir -p "$root/${applet%/*}"
    ln -sfn /bin/busybox "$root/$applet"
  done < <("$busybox" --list-full)
}

# Copies the files of overlay folder $1 over root $2, replacing applet symlinks.
install_overlay() {
  cp -R --no-preserve=ownership --remove-destination "$1/." "$2/"
}

# Sets every mtime under $1 to $2 so that archives and filesystems are reproducible.
clamp_mtimes() {
  find "$1" -exec touch -h -d "@$2" {} +
}

# mkfs.ext4 -d copies each file's ctime (which touch cannot set) and the builder's uid
# and gid: set both on every inode of ext4 image $1 copied from folder $2, times to $3.
ext4_normalise_inodes() {
  local chown_to_root=1
  [[ $EUID != 0 ]] || chown_to_root=0
  (cd "$2" && find . | sed -e 's|^\.||' -e 's|^$|/|') |
    while read -r path; do
      printf 'set_inode_field "%s" %s @%s\n' "$path" ctime "$3" "$path" atime "$3" \
        "$path" crtime "$3"
      [[ $chown_to_root == 0 ]] ||
        printf 'set_inode_field "%s" %s 0\n' "$path" uid "$path" gid
    done | E2FSPROGS_FAKE_TIME="$3" debugfs -w -f - "$1" >/dev/null 2>&1
}

# ---------------------------------------------------------------------------------------
# Kernel modules

declare -A MODULE_FILE=()   # module name -> file in the unpacked kernel package
declare -A MODULE_SEEN=()
MODULE_ORDER=()

# Indexes the modules under folder $1 by name (dashes read as underscores).
index_modules() {
  local file name
  MODULE_FILE=()
  while read -r -d '' file; do
    name="${file##*/}"
    name="${name%%.ko*}"
    MODULE_FILE[${name//-/_}]="$file"
  done < <(find "$1" \( -name '*.ko' -o -name '*.ko.*' \) -print0)
}

# Prints module file $1 decompressed: busybox insmod loads plain .ko files only.
module_bytes() {
  case "$1" in
    *.ko) cat "$1" ;;
    *.ko.xz) xz -dc "$1" ;;
    *.ko.zst) zstd -qdc "$1" ;;
    *.ko.gz) gzip -dc "$1" ;;
    *) die "unknown module compression: $1" ;;
  esac
}

# Prints the modules that module $1 depends on, one a line.
module_depends() {
  local file="${MODULE_FILE[$1]}"
  if command -v modinfo >/dev/null; then
    modinfo -F depends "$file"
  else
    # The .modinfo section holds NUL-separated "key=value" strings.
    module_bytes "$file" | tr '\0' '\n' | sed -n 's/^depends=//p'
  fi | tr ',' '\n' | sed '/^$/d'
}

# Appends module $1 to MODULE_ORDER after everything it depends on.
visit_module() {
  local name="$1" dep
  [[ -z ${MODULE_SEEN[$name]:-} ]] || return 0
  MODULE_SEEN[$name]=1
  [[ -n ${MODULE_FILE[$name]:-} ]] || die "kernel module $name not found in the kernel package"
  for dep in $(module_depends "$name"); do
    visit_module "$dep"
  done
  MODULE_ORDER+=("$name")
}

# Sets MODULE_ORDER to the modules "$@" and their dependencies, dependencies first.
order_modules() {
  local name
  MODULE_SEEN=()
  MODULE_ORDER=()
  for name in "$@"; do
    visit_module "$name"
  done
}

# ---------------------------------------------------------------------------------------
# Output

# Replaces folder $2 with the finished folder $1; either the old or the new folder is
# complete at every moment, and only a complete one holds a .build-key.
publish() {
  local staged="$1" final="$2" old="${2%/*}/.${2##*/}.old.$$"
  [[ ! -e $final ]] || mv "$final" "$old"
  mv "$staged" "$final"
  rm -rf "$old"
}

# Prints one manifest artifact entry for file $2 of kind $1 in folder $3.
manifest_artifact() {
  local kind="$1" file="$2" dir="$3" format="${4:-}"
  echo "  - kind: $kind"
  echo "    file: $file"
  [[ -z $format ]] || echo "    format: $format"
  echo "    sha256: $(sha256_of "$dir/$file")"
  echo "    size_bytes: $(size_of "$dir/$file")"
}

# Writes STAGE/manifest.yaml of a direct-kernel-boot image whose artifacts (vmlinuz,
# initrd.img, disk.qcow2) are in STAGE: write_direct_kernel_manifest STAGE NAME RELEASE KEY
# CMDLINE MARKER MEMORY_MIB ROLES ("server, switch") [GUEST_AGENT]. The version is the
# kernel release without its flavour, then the build key's first 8 characters.
write_direct_kernel_manifest() {
  local stage="$1" name="$2" release="$3" key="$4" cmdline="$5" marker="$6" memory="$7"
  local roles="$8" agent="${9:-}"
  cat >"$stage/manifest.yaml" <<EOF
name: $name
version: "${release%-cloud-amd64}-${key:0:8}"
boot_mode: direct-kernel
cmdline: "$cmdline"
readiness:
  serial_marker: "$marker"
default_vcpus: 1
default_memory_mib: $memory
roles: [$roles]
${agent:+guest_agent: $agent
}artifacts:
$(manifest_artifact kernel vmlinuz "$stage")
$(manifest_artifact initrd initrd.img "$stage")
$(manifest_artifact disk disk.qcow2 "$stage" qcow2)
EOF
}

# ---------------------------------------------------------------------------------------
# Recipe: tiny (Debian cloud kernel + busybox, direct kernel boot)

readonly TINY_DIR="$SCRIPT_DIR/tiny"
readonly TINY_KERNEL_META=linux-image-cloud-amd64
readonly TINY_CMDLINE="console=ttyS0 no_timer_check quiet loglevel=1 panic=-1"
readonly TINY_DISK_MIB=64

# Sets TINY_KERNEL_PKG, TINY_KERNEL_VERSION, TINY_BUSYBOX_VERSION from the apt lists,
# refreshing them once if they cannot answer.
tiny_resolve_inputs() {
  local candidates
  candidates="$(apt_candidates "$TINY_KERNEL_META" busybox-static)"
  TINY_KERNEL_PKG="$(awk '$1 ~ /^kernel:/ { sub(/^kernel:/, "", $1); print $1 }' <<<"$candidates")"
  TINY_KERNEL_VERSION="$(awk '$1 ~ /^kernel:/ { print $2 }' <<<"$candidates")"
  TINY_BUSYBOX_VERSION="$(awk '$1 == "busybox-static" { print $2 }' <<<"$candidates")"
  if [[ -n $TINY_KERNEL_PKG && -z $TINY_KERNEL_VERSION ]]; then
    TINY_KERNEL_VERSION="$(apt_candidate_version "$TINY_KERNEL_PKG")"
  fi
  if [[ -z $TINY_KERNEL_PKG || -z $TINY_KERNEL_VERSION || -z $TINY_BUSYBOX_VERSION ]]; then
    apt_update_once || die "apt cannot resolve $TINY_KERNEL_META and busybox-static"
    tiny_resolve_inputs
  fi
}

tiny_build_key() {
  {
    echo "kernel $TINY_KERNEL_PKG $TINY_KERNEL_VERSION"
    echo "busybox-static $TINY_BUSYBOX_VERSION"
    echo "build.sh $(sha256_of "$SCRIPT_DIR/build.sh")"
    echo "tiny $(tree_hash "$TINY_DIR")"
    echo "agent compiler $(gcc --version | head -1) libc $(dpkg-query -W -f '${Version}' libc6-dev)"
  } | sha256sum | cut -d' ' -f1
}

# True when recipe $1's published image was built with key $2 and has all its artifacts.
image_up_to_date() {
  local out="$OUT_ROOT/$1" file
  [[ -f $out/.build-key && "$(<"$out/.build-key")" == "$2" ]] || return 1
  for file in vmlinuz initrd.img disk.qcow2 manifest.yaml; do
    [[ -f $out/$file ]] || return 1
  done
}

# Downloads and unpacks the kernel and busybox packages under $1/kernel and $1/busybox.
tiny_fetch_packages() {
  local work="$1" deb
  mkdir -p "$work/debs"
  apt_download "$work/debs" "$TINY_KERNEL_PKG=$TINY_KERNEL_VERSION" \
    "busybox-static=$TINY_BUSYBOX_VERSION" ||
    die "apt-get download failed (stale package lists? try apt-get update)"
  for deb in "$work"/debs/linux-image-*.deb; do dpkg -x "$deb" "$work/kernel"; done
  for deb in "$work"/debs/busybox-static_*.deb; do dpkg -x "$deb" "$work/busybox"; done
  [[ -x $work/busybox/bin/busybox ]] || die "busybox-static did not unpack bin/busybox"
}

# Prints the kernel release (e.g. 6.1.0-56-cloud-amd64) unpacked under $1.
tiny_kernel_release() {
  local kernels=("$1"/boot/vmlinuz-*)
  [[ ${#kernels[@]} == 1 && -f ${kernels[0]} ]] || die "expected one vmlinuz in $TINY_KERNEL_PKG"
  echo "${kernels[0]##*/vmlinuz-}"
}

# Builds $1/initrd.img: busybox, the initrd modules in load order, and /init.
tiny_make_initrd() {
  local work="$1" stage="$2" epoch="$3" root="$work/initramfs" name
  install_busybox "$root" "$work/busybox/bin/busybox"
  mkdir -p "$root"/{dev,proc,sys,newroot,tmp,lib/modules}
  order_modules $(read_list "$TINY_DIR/initrd-modules")
  for name in "${MODULE_ORDER[@]}"; do
    module_bytes "${MODULE_FILE[$name]}" >"$root/lib/modules/$name.ko"
  done
  printf '%s\n' "${MODULE_ORDER[@]}" >"$root/lib/modules/load-order"
  log "initramfs modules: ${MODULE_ORDER[*]}"
  install_overlay "$TINY_DIR/initramfs" "$root"
  chmod 0755 "$root/init"
  clamp_mtimes "$root" "$epoch"
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n >"$stage/initrd.img"
}

# Installs the rootfs modules and their dependencies under $1/lib/modules/$2.
tiny_install_rootfs_modules() {
  local root="$1" release="$2" moddir="$3" name file rel
  order_modules $(read_list "$TINY_DIR/rootfs-modules")
  for name in "${MODULE_ORDER[@]}"; do
    file="${MODULE_FILE[$name]}"
    rel="${file#"$moddir"/}"
    mkdir -p "$root/lib/modules/$release/$(dirname "$rel")"
    module_bytes "$file" >"$root/lib/modules/$release/${rel%%.ko*}.ko"
  done
  cp "$moddir/modules.builtin" "$root/lib/modules/$release/"
  "$root/bin/busybox" depmod -b "$root" "$release"
}

# Builds $2/disk.qcow2: an ext4 filesystem with busybox, the rootfs modules and the overlay.
tiny_make_disk() {
  local work="$1" stage="$2" release="$3" epoch="$4" key="$5" root="$work/rootfs"
  install_busybox "$root" "$work/busybox/bin/busybox"
  mkdir -p "$root"/{dev,proc,sys,run,tmp,root,mnt,var/log,etc}
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  tiny_install_rootfs_modules "$root" "$release" "$work/kernel/lib/modules/$release"
  install_overlay "$TINY_DIR/rootfs" "$root"
  tiny_build_agent "$work" "$root/sbin/labrack-agent"
  chmod 0755 "$root/sbin/init"
  chmod 0600 "$root/etc/shadow"
  clamp_mtimes "$root" "$epoch"
  # A filesystem UUID and directory hash seed derived from the build key, for reproducibility.
  local uuid="${key:0:8}-${key:8:4}-4${key:13:3}-8${key:17:3}-${key:20:12}"
  truncate -s "${TINY_DISK_MIB}M" "$work/root.raw"
  E2FSPROGS_FAKE_TIME="$epoch" mkfs.ext4 -q -F -L tiny-root -U "$uuid" -m 0 -d "$root" \
    -E "hash_seed=$uuid,root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0" "$work/root.raw"
  ext4_normalise_inodes "$work/root.raw" "$root" "$epoch"
  qemu-img convert -f raw -O qcow2 "$work/root.raw" "$stage/disk.qcow2"
}

# Builds the guest agent (images/tiny/agent) as a static binary at $2.
tiny_build_agent() {
  local work="$1" out="$2"
  command -v gcc >/dev/null || die "gcc is needed to build the tiny image's guest agent"
  gcc -static -Os -s -Wall -Wextra -Werror -ffile-prefix-map="$TINY_DIR"=. \
    -o "$work/labrack-agent" "$TINY_DIR/agent/labrack-agent.c" || die "building labrack-agent failed"
  install -D -m 0755 "$work/labrack-agent" "$out"
}

tiny_write_manifest() {
  write_direct_kernel_manifest "$1" tiny "$2" "$3" "$TINY_CMDLINE" LABRACK-READY 128 \
    "server, switch, storage, router, firewall, workstation" qemu-ga
}

build_tiny() {
  tiny_resolve_inputs
  local key
  key="$(tiny_build_key)"
  if image_up_to_date tiny "$key"; then
    echo "tiny: up to date"
    return
  fi
  log "building tiny from $TINY_KERNEL_PKG $TINY_KERNEL_VERSION," \
    "busybox-static $TINY_BUSYBOX_VERSION"
  local work stage release epoch
  work="$(mktemp -d "$OUT_ROOT/.tiny.build.XXXXXX")"
  stage="$work/stage"
  mkdir -p "$stage"
  tiny_fetch_packages "$work"
  release="$(tiny_kernel_release "$work/kernel")"
  # Timestamps come from the kernel package, so that equal inputs give equal bytes.
  epoch="$(stat -c %Y "$work/kernel/boot/vmlinuz-$release")"
  index_modules "$work/kernel/lib/modules/$release"
  cp "$work/kernel/boot/vmlinuz-$release" "$stage/vmlinuz"
  tiny_make_initrd "$work" "$stage" "$epoch"
  tiny_make_disk "$work" "$stage" "$release" "$epoch" "$key"
  tiny_write_manifest "$stage" "$release" "$key"
  echo "$key" >"$stage/.build-key"
  publish "$stage" "$OUT_ROOT/tiny"
  echo "tiny: built $OUT_ROOT/tiny (version ${release%-cloud-amd64}-${key:0:8})"
}

# ---------------------------------------------------------------------------------------
# Recipe: linkemu (the hidden link emulator; reuses tiny's kernel inputs)

source "$SCRIPT_DIR/linkemu/recipe.sh"

# ---------------------------------------------------------------------------------------
# Recipes debian-server, debian-switch, debian-storage, debian-workstation (real Debian 12)

source "$SCRIPT_DIR/debian/build-role.sh"

# ---------------------------------------------------------------------------------------

# Serialises builds of recipe $1 and removes what an interrupted build left behind.
lock_recipe() {
  mkdir -p "$OUT_ROOT"
  exec 9>"$OUT_ROOT/.$1.lock"
  flock 9
  rm -rf "$OUT_ROOT/.$1.build."* "$OUT_ROOT/.$1.old."*
}

main() {
  [[ $# == 1 ]] || usage
  RECIPE="$1"
  [[ " ${RECIPES[*]} " == *" $RECIPE "* ]] || usage "unknown recipe \"$RECIPE\""
  lock_recipe "$RECIPE"
  trap 'rm -rf "$OUT_ROOT/.$RECIPE.build."*' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  "build_$RECIPE"
}

# Sourced (images/check-recipes.sh does), the script only defines its functions.
[[ ${BASH_SOURCE[0]} != "$0" ]] || main "$@"
