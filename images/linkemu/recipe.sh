# Recipe: linkemu, sourced by images/build.sh. The hidden link-emulator guest a worker
# puts on a shaped link when its host kernel has no netem: the tiny image's kernel, and an
# initramfs holding everything (busybox, iproute2's ip and tc with their shared libraries,
# the virtio_net, bridge and sch_netem modules, linkemu/init). The disk is an empty
# placeholder: manifests need exactly one, and the guest never mounts it.

readonly LINKEMU_DIR="$SCRIPT_DIR/linkemu"
readonly LINKEMU_DISK_MIB=1
readonly LINKEMU_MEMORY_MIB=96

# Sets LINKEMU_PACKAGES ("NAME=VERSION"...) for the packages of linkemu/packages, and the
# TINY_* inputs (kernel, busybox), refreshing the apt lists once if they cannot answer.
linkemu_resolve_inputs() {
  tiny_resolve_inputs
  local names candidates name version
  names=($(read_list "$LINKEMU_DIR/packages"))
  candidates="$(apt_candidates "${names[@]}")"
  LINKEMU_PACKAGES=()
  for name in "${names[@]}"; do
    version="$(awk -v p="$name" '$1 == p { print $2; exit }' <<<"$candidates")"
    if [[ -z $version ]]; then
      apt_update_once || die "apt cannot resolve package $name of linkemu/packages"
      linkemu_resolve_inputs
      return
    fi
    LINKEMU_PACKAGES+=("$name=$version")
  done
}

linkemu_build_key() {
  {
    echo "kernel $TINY_KERNEL_PKG $TINY_KERNEL_VERSION"
    echo "busybox-static $TINY_BUSYBOX_VERSION"
    printf 'package %s\n' "${LINKEMU_PACKAGES[@]}"
    echo "build.sh $(sha256_of "$SCRIPT_DIR/build.sh")"
    echo "linkemu $(tree_hash "$LINKEMU_DIR")"
  } | sha256sum | cut -d' ' -f1
}

# Downloads and unpacks the kernel, busybox and linkemu/packages under $1/kernel,
# $1/busybox and $1/userland.
linkemu_fetch_packages() {
  local work="$1" deb
  mkdir -p "$work/debs"
  apt_download "$work/debs" "$TINY_KERNEL_PKG=$TINY_KERNEL_VERSION" \
    "busybox-static=$TINY_BUSYBOX_VERSION" "${LINKEMU_PACKAGES[@]}" ||
    die "apt-get download failed (stale package lists? try apt-get update)"
  for deb in "$work"/debs/*.deb; do
    case "${deb##*/}" in
      linux-image-*) dpkg -x "$deb" "$work/kernel" ;;
      busybox-static_*) dpkg -x "$deb" "$work/busybox" ;;
      *) dpkg -x "$deb" "$work/userland" ;;
    esac
  done
  [[ -x $work/busybox/bin/busybox ]] || die "busybox-static did not unpack bin/busybox"
}

# Prints the path under userland folder $1 of program $2 (e.g. sbin/tc).
linkemu_find_program() {
  local dir
  for dir in sbin bin usr/sbin usr/bin; do
    [[ ! -f $1/$dir/$2 ]] || { echo "$dir/$2"; return; }
  done
  die "program $2 of linkemu/programs is in none of linkemu/packages"
}

# Prints the path under userland folder $1 of the library whose soname is $2.
linkemu_find_library() {
  local dir
  for dir in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64 lib usr/lib; do
    [[ ! -e $1/$dir/$2 ]] || { echo "$dir/$2"; return; }
  done
  die "a linkemu program needs $2, which none of linkemu/packages provides: add its package"
}

# Prints path $2 (under userland folder $1) with its symlinks followed inside $1: Debian's
# packages hold absolute links (lib64/ld-linux-x86-64.so.2) that must not reach the host.
linkemu_resolve() {
  local userland="$1" path="$1/$2" target hops=0
  while [[ -L $path ]]; do
    ((++hops < 20)) || die "symlink loop at $2"
    target="$(readlink "$path")"
    if [[ $target == /* ]]; then path="$userland$target"; else path="$(dirname "$path")/$target"; fi
  done
  [[ -f $path ]] || die "$2 is a dangling link in linkemu/packages"
  echo "$path"
}

# Copies ELF file $2 (relative to userland $1) into root $3, then the libraries it needs,
# transitively (readelf's NEEDED entries), each once.
declare -A LINKEMU_COPIED=()
linkemu_copy_elf() {
  local userland="$1" rel="$2" root="$3" soname
  [[ -z ${LINKEMU_COPIED[$rel]:-} ]] || return 0
  LINKEMU_COPIED[$rel]=1
  local file
  file="$(linkemu_resolve "$userland" "$rel")"
  install -D -m 0755 "$file" "$root/$rel"
  for soname in $(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    linkemu_copy_elf "$userland" "$(linkemu_find_library "$userland" "$soname")" "$root"
  done
}

# Installs the programs of linkemu/programs and their libraries into initramfs root $2,
# replacing busybox's applets of the same names.
linkemu_install_programs() {
  local userland="$1" root="$2" name rel interp
  for name in $(read_list "$LINKEMU_DIR/programs"); do
    rel="$(linkemu_find_program "$userland" "$name")"
    find "$root" -name "$name" -type l -delete
    linkemu_copy_elf "$userland" "$rel" "$root"
    [[ $rel == sbin/* ]] || ln -sfn "/$rel" "$root/sbin/$name"
    interp="$(readelf -l "$root/$rel" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')"
    [[ -z $interp ]] || install -D -m 0755 "$(linkemu_resolve "$userland" "${interp#/}")" \
      "$root$interp"
  done
  log "linkemu programs and libraries: ${!LINKEMU_COPIED[*]}"
}

# Builds $2/initrd.img: busybox, modules in load order, programs, libraries and /init.
linkemu_make_initrd() {
  local work="$1" stage="$2" epoch="$3" root="$work/initramfs" name
  install_busybox "$root" "$work/busybox/bin/busybox"
  mkdir -p "$root"/{dev,proc,sys,tmp,sbin,lib/modules}
  order_modules $(read_list "$LINKEMU_DIR/modules")
  for name in "${MODULE_ORDER[@]}"; do
    module_bytes "${MODULE_FILE[$name]}" >"$root/lib/modules/$name.ko"
  done
  printf '%s\n' "${MODULE_ORDER[@]}" >"$root/lib/modules/load-order"
  log "linkemu modules: ${MODULE_ORDER[*]}"
  linkemu_install_programs "$work/userland" "$root"
  install -m 0755 "$LINKEMU_DIR/init" "$root/init"
  clamp_mtimes "$root" "$epoch"
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n >"$stage/initrd.img"
}

linkemu_write_manifest() {
  write_direct_kernel_manifest "$1" linkemu "$2" "$3" "$TINY_CMDLINE" LABRACK-READY \
    "$LINKEMU_MEMORY_MIB" router
}

build_linkemu() {
  linkemu_resolve_inputs
  local key
  key="$(linkemu_build_key)"
  if image_up_to_date linkemu "$key"; then
    echo "linkemu: up to date"
    return
  fi
  log "building linkemu from $TINY_KERNEL_PKG $TINY_KERNEL_VERSION," \
    "busybox-static $TINY_BUSYBOX_VERSION, ${LINKEMU_PACKAGES[*]}"
  local work stage release epoch
  work="$(mktemp -d "$OUT_ROOT/.linkemu.build.XXXXXX")"
  stage="$work/stage"
  mkdir -p "$stage"
  linkemu_fetch_packages "$work"
  release="$(tiny_kernel_release "$work/kernel")"
  epoch="$(stat -c %Y "$work/kernel/boot/vmlinuz-$release")"
  index_modules "$work/kernel/lib/modules/$release"
  cp "$work/kernel/boot/vmlinuz-$release" "$stage/vmlinuz"
  linkemu_make_initrd "$work" "$stage" "$epoch"
  qemu-img create -q -f qcow2 "$stage/disk.qcow2" "${LINKEMU_DISK_MIB}M"
  linkemu_write_manifest "$stage" "$release" "$key"
  echo "$key" >"$stage/.build-key"
  publish "$stage" "$OUT_ROOT/linkemu"
  echo "linkemu: built $OUT_ROOT/linkemu (version ${release%-cloud-amd64}-${key:0:8})"
}
