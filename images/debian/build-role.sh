# Recipes debian-server, debian-switch, debian-storage and debian-workstation: real Debian 12
# guests made with debootstrap and apt into a folder, an ext4 image made with mkfs.ext4 -d
# (no mounts of the image, no loop devices), converted to qcow2, booted directly with
# Debian's cloud kernel and a busybox initramfs. Sourced by images/build.sh, whose helpers
# (apt_*, read_list, tree_hash, order_modules, publish, manifest_artifact, ...) it uses.
# Needs root (debootstrap, chroot, unshare) and debootstrap.

readonly DEBIAN_DIR="$SCRIPT_DIR/debian"
readonly DEBIAN_ROLES=(server switch storage workstation)
readonly DEBIAN_RECIPES=(debian-server debian-switch debian-storage debian-workstation)
readonly DEBIAN_SUITE=bookworm
readonly DEBIAN_KERNEL_META=linux-image-cloud-amd64
readonly DEBIAN_CMDLINE="console=ttyS0 no_timer_check quiet loglevel=1 panic=-1"
readonly DEBIAN_MARKER="LABRACK-READY"
# Root filesystem size (the guest's disk; the qcow2 holds only the used blocks), default
# memory, and the node roles each image serves.
declare -grA DEBIAN_DISK_MIB=([server]=8192 [switch]=3072 [storage]=4096 [workstation]=8192)
declare -grA DEBIAN_MEMORY_MIB=([server]=1024 [switch]=512 [storage]=512 [workstation]=1024)
declare -grA DEBIAN_MANIFEST_ROLES=(
  [server]="server" [switch]="switch, router, firewall" [storage]="storage"
  [workstation]="workstation")

build_debian-server() { debian_build_role server; }
build_debian-switch() { debian_build_role switch; }
build_debian-storage() { debian_build_role storage; }
build_debian-workstation() { debian_build_role workstation; }

# ---------------------------------------------------------------------------------------
# Inputs

# Prints the packages of role $1: images/debian/common.packages and images/debian/$1.packages.
debian_packages() {
  { read_list "$DEBIAN_DIR/common.packages"; read_list "$DEBIAN_DIR/$1.packages"; } |
    LC_ALL=C sort -u
}

# Prints the first URI of the apt sources that serve suite $1, or nothing. Reads deb822
# .sources files and one-line sources.list entries.
debian_host_mirror() {
  local suite="$1" file
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] || continue
    awk -v suite="$suite" 'BEGIN { RS = "" }
      { uri = ""; ok = 0
        n = split($0, lines, "\n")
        for (i = 1; i <= n; i++) {
          if (lines[i] ~ /^URIs:/) { split(lines[i], f, " "); uri = f[2] }
          if (lines[i] ~ /^Suites:/ && (lines[i] " ") ~ (" " suite " ")) ok = 1
        }
        if (ok && uri != "") { print uri; exit }
      }' "$file"
  done | head -n 1
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $file ]] || continue
    awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }' "$file"
  done | head -n 1
}

# Sets DEBIAN_MIRROR and DEBIAN_SECURITY_MIRROR: $LABRACK_DEBIAN_MIRROR and
# $LABRACK_DEBIAN_SECURITY_MIRROR, else the host's apt sources, else deb.debian.org.
debian_resolve_mirrors() {
  DEBIAN_MIRROR="${LABRACK_DEBIAN_MIRROR:-$(debian_host_mirror "$DEBIAN_SUITE" | head -n 1)}"
  DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  DEBIAN_SECURITY_MIRROR="${LABRACK_DEBIAN_SECURITY_MIRROR:-$(
    debian_host_mirror "$DEBIAN_SUITE-security" | head -n 1)}"
  DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
}

# Sets DEBIAN_VERSIONS ("PACKAGE VERSION" lines: the role's packages, the kernel the
# metapackage pins, busybox-static), DEBIAN_KERNEL_PKG and DEBIAN_BUSYBOX_VERSION from the
# host's apt lists, refreshing them once if they cannot answer.
debian_resolve_inputs() {
  local role="$1" packages candidates missing="" pkg
  mapfile -t packages < <(debian_packages "$role")
  candidates="$(apt_candidates "${packages[@]}" "$DEBIAN_KERNEL_META" busybox-static)"
  DEBIAN_KERNEL_PKG="$(awk '$1 ~ /^kernel:/ { sub(/^kernel:/, "", $1); print $1 }' <<<"$candidates")"
  DEBIAN_BUSYBOX_VERSION="$(awk '$1 == "busybox-static" { print $2 }' <<<"$candidates")"
  for pkg in "${packages[@]}" "$DEBIAN_KERNEL_META" busybox-static; do
    awk -v p="$pkg" '$1 == p { found = 1 } END { exit !found }' <<<"$candidates" ||
      missing+=" $pkg"
  done
  if [[ -n $missing || -z $DEBIAN_KERNEL_PKG ]]; then
    apt_update_once || die "apt knows no candidate for:${missing:- the kernel of $DEBIAN_KERNEL_META}"
    debian_resolve_inputs "$role"
    return
  fi
  DEBIAN_VERSIONS="$(awk '$1 !~ /^kernel:/' <<<"$candidates" | LC_ALL=C sort -u)"
}

debian_build_key() {
  local role="$1" file
  {
    echo "suite $DEBIAN_SUITE $DEBIAN_MIRROR $DEBIAN_SECURITY_MIRROR"
    echo "kernel $DEBIAN_KERNEL_PKG"
    echo "$DEBIAN_VERSIONS"
    echo "build.sh $(sha256_of "$SCRIPT_DIR/build.sh")"
    for file in build-role.sh common.packages "$role.packages" initrd-modules; do
      echo "$file $(sha256_of "$DEBIAN_DIR/$file")"
    done
    echo "initramfs $(tree_hash "$DEBIAN_DIR/initramfs")"
    echo "rootfs $(tree_hash "$DEBIAN_DIR/rootfs")"
  } | sha256sum | cut -d' ' -f1
}

# ---------------------------------------------------------------------------------------
# The root filesystem

# Runs "$@" with its output in log file $1; on failure shows the log's end and stops,
# naming the step $2.
debian_logged() {
  local logfile="$1" step="$2"
  shift 2
  if ! "$@" >"$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2
    die "$step failed (the lines above are the end of its output)"
  fi
}

# Runs command "$3..." chrooted into root $1 in private mount and PID namespaces, with
# proc, sysfs, devpts and the shared package cache $2 mounted: every mount and every
# process the command leaves behind vanish with the namespaces, and nothing is mounted
# on the host when the build folder is removed.
debian_chroot() {
  local root="$1" cache="$2"
  shift 2
  unshare --mount --pid --fork --propagation private -- bash -euc '
    root=$1 cache=$2
    shift 2
    mount -t proc proc "$root/proc"
    mount -t sysfs -o ro sysfs "$root/sys"
    mkdir -p "$root/dev/pts" "$root/var/cache/apt/archives"
    mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
    mount --bind "$cache" "$root/var/cache/apt/archives"
    exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
      INITRD=No "$@"' _ "$root" "$cache" "$@"
}

# Prints apt -o options that repeat the host's date checks of Release files (a host that
# reads an archive snapshot turns them off; the guest's build must read the same archive).
debian_apt_options() {
  local name value
  for name in Acquire::Check-Valid-Until Acquire::Check-Date; do
    value=""
    eval "$(apt-config shell value "$name")"
    [[ -z $value ]] || echo "-o $name=$value"
  done
}

# The guest's apt sources: the same archive and suites the build installs from.
debian_write_sources() {
  local root="$1"
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: $DEBIAN_SUITE $DEBIAN_SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $DEBIAN_SECURITY_MIRROR
Suites: $DEBIAN_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# Bootstraps a minimal Debian into $1/root, then installs the role's packages at the
# versions the build key holds (their dependencies at what the archive has then), with the
# security updates, and no service started.
debian_install_root() {
  local role="$1" work="$2" cache="$3" root="$2/root" pins
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  log "debian-$role: debootstrap $DEBIAN_SUITE from $DEBIAN_MIRROR"
  debian_logged "$work/debootstrap.log" debootstrap unshare --mount --propagation private -- \
    debootstrap --variant=minbase --cache-dir="$cache" "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR"
  debian_write_sources "$root"
  printf '#!/bin/sh\n# labrack image build: start no services\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  pins="$(awk -v bb=busybox-static '$1 != bb { printf "%s=%s ", $1, $2 }' <<<"$DEBIAN_VERSIONS")"
  log "debian-$role: installing $(wc -w <<<"$pins") packages and their dependencies"
  # shellcheck disable=SC2086 # $pins holds one NAME=VERSION word per package
  debian_logged "$work/apt.log" "apt-get in the new root" debian_chroot "$root" "$cache" sh -euc '
    apt-get update -q $1
    apt-get -y -q -o Dpkg::Options::=--force-confold upgrade
    shift
    apt-get -y -q --no-install-recommends -o Dpkg::Options::=--force-confold install "$@"
  ' _ "$(debian_apt_options | tr '\n' ' ')" $pins "$DEBIAN_KERNEL_PKG"
  rm -f "$root/usr/sbin/policy-rc.d"
}

# The labrack units and files (images/debian/rootfs) and the services a lab node needs.
debian_configure_root() {
  local role="$1" work="$2" cache="$3" root="$2/root"
  install_overlay "$DEBIAN_DIR/rootfs" "$root"
  chmod 0755 "$root/usr/local/sbin/labrack-boot"
  debian_logged "$work/configure.log" "configuring the new root" debian_chroot "$root" "$cache" sh -euc '
    systemctl enable labrack-setup.service labrack-network.service labrack-ready.service \
      serial-getty@ttyS0.service
    # The guests have no route to an archive: daily apt runs would only fail.
    systemctl disable apt-daily.timer apt-daily-upgrade.timer
    # Root stays locked until labrack.password_hash= sets its password.
    usermod -p "*" root
    dpkg-query -W -f "\${Package} \${Version}\n" >/var/lib/labrack-packages.txt'
  mv "$root/var/lib/labrack-packages.txt" "$work/packages.txt"
}

# Removes what must differ between guests or only records the build (machine id, SSH
# host keys, package lists, logs, caches) and pins build-time dates to $2.
debian_clean_root() {
  local root="$1" epoch="$2" days=$(($2 / 86400)) shadow="$1/etc/shadow"
  # rm first: writing through a symlink in the new root could reach the host's files.
  rm -f "$root/etc/machine-id" "$root/etc/resolv.conf"
  : >"$root/etc/machine-id"
  [[ -L $root/var/lib/dbus/machine-id ]] || rm -f "$root/var/lib/dbus/machine-id"
  rm -f "$root"/etc/ssh/ssh_host_* "$root/var/lib/systemd/random-seed" \
    "$root/var/lib/systemd/credential.secret" "$root/var/cache/ldconfig/aux-cache" \
    "$root"/boot/initrd.img* "$root"/etc/{passwd,group,shadow,gshadow}- \
    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/var/cache/apt/*.bin
  find "$root/var/lib/apt/lists" -maxdepth 1 -type f -delete
  find "$root/var/log" -type f -exec truncate -s 0 {} +
  find "$root/tmp" "$root/var/tmp" -mindepth 1 -delete
  # The last password change (days since 1970) would otherwise be the build date.
  awk -F: -v OFS=: -v d="$days" '$3 != "" { $3 = d } { print }' "$shadow" >"$shadow.new"
  chmod --reference="$shadow" "$shadow.new"
  chown --reference="$shadow" "$shadow.new"
  mv "$shadow.new" "$shadow"
  printf '# labrack: the lab networks have no name server; configure one here.\n' \
    >"$root/etc/resolv.conf"
}

# ---------------------------------------------------------------------------------------
# Boot artifacts and the disk

# Prints the kernel release (e.g. 6.1.0-56-cloud-amd64) installed in root $1.
debian_kernel_release() {
  local kernels=("$1"/boot/vmlinuz-*)
  [[ ${#kernels[@]} == 1 && -f ${kernels[0]} ]] || die "expected one kernel in $1/boot"
  echo "${kernels[0]##*/vmlinuz-}"
}

# Unpacks busybox-static (for the initramfs only) under $1/busybox.
debian_fetch_busybox() {
  local work="$1" deb
  mkdir -p "$work/debs"
  apt_download "$work/debs" "busybox-static=$DEBIAN_BUSYBOX_VERSION" ||
    die "apt-get download busybox-static failed (stale package lists? try apt-get update)"
  for deb in "$work"/debs/busybox-static_*.deb; do dpkg -x "$deb" "$work/busybox"; done
  [[ -x $work/busybox/bin/busybox ]] || die "busybox-static did not unpack bin/busybox"
}

# Builds $2/initrd.img: busybox, the virtio modules in load order and images/debian/initramfs.
debian_make_initrd() {
  local work="$1" stage="$2" epoch="$3" root="$1/initramfs" name
  install_busybox "$root" "$work/busybox/bin/busybox"
  mkdir -p "$root"/{dev,proc,sys,newroot,tmp,lib/modules}
  order_modules $(read_list "$DEBIAN_DIR/initrd-modules")
  for name in "${MODULE_ORDER[@]}"; do
    module_bytes "${MODULE_FILE[$name]}" >"$root/lib/modules/$name.ko"
  done
  printf '%s\n' "${MODULE_ORDER[@]}" >"$root/lib/modules/load-order"
  install_overlay "$DEBIAN_DIR/initramfs" "$root"
  chmod 0755 "$root/init"
  clamp_mtimes "$root" "$epoch"
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n >"$stage/initrd.img"
}

# Builds $3/disk.qcow2 from folder $2/root: an ext4 filesystem of the role's size.
debian_make_disk() {
  local role="$1" work="$2" stage="$3" epoch="$4" key="$5" root="$2/root"
  local size_mib="${DEBIAN_DISK_MIB[$role]}" used_mib
  used_mib="$(du -sxm "$root" | cut -f1)"
  ((used_mib * 5 / 4 + 512 <= size_mib)) ||
    die "debian-$role: the root holds $used_mib MiB; DEBIAN_DISK_MIB[$role]=$size_mib is too small"
  clamp_mtimes "$root" "$epoch"
  local uuid="${key:0:8}-${key:8:4}-4${key:13:3}-8${key:17:3}-${key:20:12}"
  truncate -s "${size_mib}M" "$work/root.raw"
  E2FSPROGS_FAKE_TIME="$epoch" mkfs.ext4 -q -F -L "$role" -U "$uuid" -m 0 -d "$root" \
    -E "hash_seed=$uuid,root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0" "$work/root.raw"
  ext4_normalise_inodes "$work/root.raw" "$root" "$epoch"
  qemu-img convert -f raw -O qcow2 "$work/root.raw" "$stage/disk.qcow2"
  rm -f "$work/root.raw"
}

# Writes $1/manifest.yaml for role $2 (kernel release $3, build key $4) from the artifacts
# in $1. The check (images/check-recipes.sh) runs it on a folder of dummy artifacts.
debian_write_manifest() {
  local stage="$1" role="$2" release="$3" key="$4"
  write_direct_kernel_manifest "$stage" "debian-$role" "$release" "$key" "$DEBIAN_CMDLINE" \
    "$DEBIAN_MARKER" "${DEBIAN_MEMORY_MIB[$role]}" "${DEBIAN_MANIFEST_ROLES[$role]}"
}

# ---------------------------------------------------------------------------------------

debian_build_role() {
  local role="$1" recipe="debian-$1"
  [[ $EUID == 0 ]] || die "$recipe: debootstrap and chroot need root"
  debian_resolve_mirrors
  debian_resolve_inputs "$role"
  local key
  key="$(debian_build_key "$role")"
  if image_up_to_date "$recipe" "$key"; then
    echo "$recipe: up to date"
    return
  fi
  local started=$SECONDS work stage root cache="$OUT_ROOT/.debian-cache" release epoch
  log "building $recipe from $DEBIAN_SUITE with $DEBIAN_KERNEL_PKG"
  work="$(mktemp -d "$OUT_ROOT/.$recipe.build.XXXXXX")"
  stage="$work/stage"
  root="$work/root"
  mkdir -p "$stage" "$cache"
  # One package cache for every Debian recipe; apt and debootstrap must not share it at once.
  exec 8>"$cache/.lock"
  flock 8
  debian_install_root "$role" "$work" "$cache"
  debian_configure_root "$role" "$work" "$cache"
  flock -u 8
  log "$recipe: root filesystem ready after $((SECONDS - started)) s ($(du -sxm "$root" | cut -f1) MiB)"
  release="$(debian_kernel_release "$root")"
  # Timestamps come from the kernel package, as for tiny.
  epoch="$(stat -c %Y "$root/boot/vmlinuz-$release")"
  index_modules "$root/lib/modules/$release"
  cp "$root/boot/vmlinuz-$release" "$stage/vmlinuz"
  debian_fetch_busybox "$work"
  debian_make_initrd "$work" "$stage" "$epoch"
  debian_clean_root "$root" "$epoch"
  debian_make_disk "$role" "$work" "$stage" "$epoch" "$key"
  debian_write_manifest "$stage" "$role" "$release" "$key"
  mv "$work/packages.txt" "$stage/packages.txt"
  echo "$key" >"$stage/.build-key"
  publish "$stage" "$OUT_ROOT/$recipe"
  echo "$recipe: built $OUT_ROOT/$recipe (version ${release%-cloud-amd64}-${key:0:8})" \
    "in $((SECONDS - started)) s"
}
