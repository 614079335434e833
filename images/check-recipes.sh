#!/usr/bin/env bash
# Checks the image recipes without building anything, quickly and offline (ctest
# image_recipes_check): every shell script under images/ parses; every recipe build.sh
# lists has its build function and a manifest writer whose output, on dummy artifacts,
# has the fields and values the worker requires; every Debian role has a valid package
# list; build.sh refuses an unknown recipe with a clear message.
#   images/check-recipes.sh                      run every check
#   images/check-recipes.sh --write-manifests DIR  only write each recipe's manifest on
#       dummy artifacts into DIR/RECIPE/ (images/recipe_manifests_test.cc parses them with
#       the worker's own parser)
set -uo pipefail

readonly IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly NODE_ROLES=" server switch storage router firewall workstation "
readonly FAKE_RELEASE="6.1.0-99-cloud-amd64"
readonly FAKE_KEY="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
CR_FAILURES=0

cr_fail() {
  echo "check-recipes: FAIL: $*" >&2
  CR_FAILURES=$((CR_FAILURES + 1))
}

# Reports section $1 as passed unless a failure happened since CR_FAILURES was $2.
cr_ok() {
  ((CR_FAILURES > $2)) || echo "check-recipes: ok: $1"
}

# ---------------------------------------------------------------------------------------
# 1. Syntax

# Prints "sh" or "bash" for a script, by its first line (.sh files without one: bash).
cr_shell_of() {
  local first
  IFS= read -r first <"$1" || true
  case "$first" in
    '#!'*bash*) echo bash ;;
    '#!'*/sh | '#!'*/sh\ *) echo sh ;;
    *) [[ $1 != *.sh ]] || echo bash ;;
  esac
}

cr_check_syntax() {
  local before=$CR_FAILURES
  local file shell count=0
  while IFS= read -r -d '' file; do
    shell="$(cr_shell_of "$file")"
    [[ -n $shell ]] || continue
    count=$((count + 1))
    # POSIX scripts run under busybox ash or dash in the guests: dash -n is the stricter.
    [[ $shell == sh ]] && shell=dash
    "$shell" -n "$file" 2>&1 | sed 's/^/  /' >&2
    [[ ${PIPESTATUS[0]} == 0 ]] || cr_fail "${file#"$IMAGES_DIR"/}: $shell -n reports a syntax error"
  done < <(find "$IMAGES_DIR" -path "$IMAGES_DIR/out" -prune -o -type f -print0)
  ((count > 0)) || cr_fail "no shell scripts found under $IMAGES_DIR"
  cr_ok "syntax of $count shell scripts" "$before"
}

# ---------------------------------------------------------------------------------------
# 2. Debian role package lists and settings

# Prints the problems of package list $1 (one package name a line, '#' comments).
cr_package_list_problems() {
  awk '{ sub(/#.*/, ""); gsub(/^[ \t]+|[ \t]+$/, "") }
    $0 == "" { next }
    { n++ }
    !/^[a-z0-9][a-z0-9+.-]+$/ { printf "line %d: \"%s\" is not a Debian package name\n", NR, $0 }
    seen[$0]++ { printf "line %d: %s is listed twice\n", NR, $0 }
    END { if (n == 0) print "lists no package" }' "$1"
}

cr_check_debian_roles() {
  local before=$CR_FAILURES
  local role file problems
  for file in common "${DEBIAN_ROLES[@]}"; do
    file="$DEBIAN_DIR/$file.packages"
    if [[ ! -f $file ]]; then
      cr_fail "${file#"$IMAGES_DIR"/}: missing"
      continue
    fi
    problems="$(cr_package_list_problems "$file")"
    [[ -z $problems ]] || cr_fail "${file#"$IMAGES_DIR"/}: ${problems//$'\n'/; }"
  done
  for file in "$DEBIAN_DIR"/*.packages; do
    role="$(basename "$file" .packages)"
    [[ $role == common || " ${DEBIAN_ROLES[*]} " == *" $role "* ]] ||
      cr_fail "${file#"$IMAGES_DIR"/}: no Debian role \"$role\" (DEBIAN_ROLES: ${DEBIAN_ROLES[*]})"
  done
  for role in "${DEBIAN_ROLES[@]}"; do
    [[ " ${RECIPES[*]} " == *" debian-$role "* ]] || cr_fail "build.sh RECIPES lacks debian-$role"
    [[ ${DEBIAN_DISK_MIB[$role]:-0} -ge 1024 ]] || cr_fail "DEBIAN_DISK_MIB[$role] must be >= 1024"
    [[ -n ${DEBIAN_MANIFEST_ROLES[$role]:-} ]] || cr_fail "DEBIAN_MANIFEST_ROLES[$role] is empty"
  done
  cr_ok "package lists of the Debian roles: ${DEBIAN_ROLES[*]}" "$before"
}

# Every ExecStart= of the units the Debian images add names a program they carry.
cr_check_debian_units() {
  local before=$CR_FAILURES
  local unit program
  for unit in "$DEBIAN_DIR"/rootfs/etc/systemd/system/*.service; do
    for program in $(sed -n 's/^ExecStart=-\{0,1\}\([^ ]*\).*/\1/p' "$unit"); do
      [[ $program != /usr/local/* ]] && continue
      [[ -x $DEBIAN_DIR/rootfs$program ]] ||
        cr_fail "${unit#"$IMAGES_DIR"/}: ExecStart=$program is not an executable in debian/rootfs"
    done
  done
  cr_ok "units of the Debian images" "$before"
}

# ---------------------------------------------------------------------------------------
# 3. Manifests, written on dummy artifacts

# Writes the manifest of recipe $1 into folder $2, which holds the dummy artifacts.
cr_write_manifest() {
  local recipe="$1" dir="$2"
  if [[ $recipe == debian-* ]]; then
    debian_write_manifest "$dir" "${recipe#debian-}" "$FAKE_RELEASE" "$FAKE_KEY"
  elif declare -F "${recipe}_write_manifest" >/dev/null; then
    "${recipe}_write_manifest" "$dir" "$FAKE_RELEASE" "$FAKE_KEY"
  else
    echo "no manifest writer (${recipe}_write_manifest STAGE RELEASE KEY)" >&2
    return 1
  fi
}

# Prints the problems of manifest $1 of recipe $2 against the artifacts beside it: the
# keys, values and artifact rules of common/topology/manifest_{yaml,validate}.cc.
cr_manifest_problems() {
  local manifest="$1" recipe="$2" dir
  dir="$(dirname "$1")"
  awk -v recipe="$recipe" -v roles="$NODE_ROLES" '
    function unquote(v) { gsub(/^"|"$/, "", v); return v }
    function problem(m) { print m; bad = 1 }
    function finish_artifact() {
      if (file == "") return
      if (kind == "") problem("artifacts[" a "]: no kind")
      if (kind == "disk" && format != "qcow2" && format != "raw")
        problem("artifacts[" a "].format: a disk needs qcow2 or raw, got \"" format "\"")
      if (kind != "disk" && format != "") problem("artifacts[" a "].format: only disks have one")
      if (length(sha) != 64 || sha !~ /^[0-9a-f]+$/) problem("artifacts[" a "].sha256: not 64 hex digits")
      if (size !~ /^[0-9]+$/) problem("artifacts[" a "].size_bytes: missing")
      count[kind]++
      print "ARTIFACT", file, sha, size
      file = kind = format = sha = size = ""
    }
    /^[^ ]/ {
      section = ""
      key = $1; sub(/:$/, "", key); value = $0; sub(/^[^:]*:[ ]*/, "", value)
      top[key] = unquote(value)
      if (key == "readiness" || key == "artifacts") section = key
      else if (key !~ /^(name|version|boot_mode|cmdline|default_vcpus|default_memory_mib|roles|guest_agent)$/)
        problem("unknown key \"" key "\"")
      next
    }
    section == "readiness" && /^  serial_marker:/ { marker = $0; sub(/^[^:]*:[ ]*/, "", marker); marker = unquote(marker); next }
    section == "artifacts" && /^  - kind:/ { finish_artifact(); a++; kind = $3; next }
    section == "artifacts" && /^    file:/ { file = $2; next }
    section == "artifacts" && /^    format:/ { format = $2; next }
    section == "artifacts" && /^    sha256:/ { sha = $2; next }
    section == "artifacts" && /^    size_bytes:/ { size = $2; next }
    /^ / { problem("unexpected line: " $0) }
    END {
      finish_artifact()
      if (top["name"] != recipe) problem("name: \"" top["name"] "\", must be the recipe name \"" recipe "\"")
      if (top["version"] !~ /^[A-Za-z0-9._+-]+$/ || length(top["version"]) > 64)
        problem("version: \"" top["version"] "\" is not 1 to 64 of A-Z a-z 0-9 . _ + -")
      if (top["boot_mode"] != "direct-kernel" && top["boot_mode"] != "disk")
        problem("boot_mode: \"" top["boot_mode"] "\" is not direct-kernel or disk")
      if (top["cmdline"] !~ /console=ttyS0/) problem("cmdline: must put the console on ttyS0 (the worker reads the serial log)")
      if (marker == "" || length(marker) > 64) problem("readiness.serial_marker: missing or longer than 64")
      if ("guest_agent" in top && top["guest_agent"] != "qemu-ga") problem("guest_agent: must be qemu-ga or absent")
      if ("default_vcpus" in top && (top["default_vcpus"] + 0 < 1 || top["default_vcpus"] + 0 > 64)) problem("default_vcpus: not 1 to 64")
      if ("default_memory_mib" in top && top["default_memory_mib"] + 0 < 32) problem("default_memory_mib: below 32")
      r = top["roles"]; gsub(/[][ ]/, "", r); n = split(r, list, ",")
      if (n == 0) problem("roles: none")
      for (i = 1; i <= n; i++) if (index(roles, " " list[i] " ") == 0) problem("roles: unknown role \"" list[i] "\"")
      if (count["disk"] != 1) problem("artifacts: " count["disk"] + 0 " disks, must be exactly one")
      if (top["boot_mode"] == "direct-kernel" && (count["kernel"] != 1 || count["initrd"] > 1))
        problem("artifacts: direct-kernel needs one kernel and at most one initrd")
      print "MARKER", marker
    }' "$manifest" | while read -r tag a b c; do
    case "$tag" in
      ARTIFACT)
        if [[ ! -f $dir/$a ]]; then
          echo "artifact $a: no such file beside the manifest"
        else
          [[ $b == "$(sha256sum "$dir/$a" | cut -d' ' -f1)" ]] || echo "artifact $a: sha256 differs from the file's"
          [[ $c == "$(stat -c %s "$dir/$a")" ]] || echo "artifact $a: size_bytes differs from the file's"
        fi
        ;;
      MARKER) echo "MARKER $a" ;;
      *) echo "$tag${a:+ $a}${b:+ $b}${c:+ $c}" ;;
    esac
  done
}

# The folder holding the files that go into recipe $1's guest.
cr_recipe_dir() {
  if [[ $1 == debian-* ]]; then echo "$DEBIAN_DIR"; else echo "$IMAGES_DIR/$1"; fi
}

# Writes recipe $1's dummy artifacts and its manifest into folder $2.
cr_write_dummy_image() {
  local recipe="$1" dir="$2"
  mkdir -p "$dir"
  printf 'dummy kernel of %s\n' "$recipe" >"$dir/vmlinuz"
  printf 'dummy initrd of %s\n' "$recipe" >"$dir/initrd.img"
  printf 'dummy disk of %s\n' "$recipe" >"$dir/disk.qcow2"
  (set -e; cr_write_manifest "$recipe" "$dir") && [[ -s $dir/manifest.yaml ]]
}

cr_check_manifests() {
  local before=$CR_FAILURES
  local tmp="$1" recipe dir problems marker
  for recipe in "${RECIPES[@]}"; do
    dir="$tmp/manifests/$recipe"
    if ! cr_write_dummy_image "$recipe" "$dir"; then
      cr_fail "$recipe: writing its manifest failed"
      continue
    fi
    problems="$(cr_manifest_problems "$dir/manifest.yaml" "$recipe")"
    marker="$(sed -n 's/^MARKER //p' <<<"$problems")"
    problems="$(sed '/^MARKER /d' <<<"$problems")"
    [[ -z $problems ]] || cr_fail "$recipe: manifest.yaml: ${problems//$'\n'/; }"
    # The guest must print the marker the manifest announces, with its node name.
    if [[ -n $marker ]] && ! grep -rF --exclude='*.sh' --exclude='*.packages' "$marker node=" \
      "$(cr_recipe_dir "$recipe")" | grep -qv ':[[:space:]]*#'; then
      cr_fail "$recipe: no file under $(cr_recipe_dir "$recipe") prints \"$marker node=\""
    fi
  done
  cr_ok "manifests of ${RECIPES[*]}" "$before"
}

# ---------------------------------------------------------------------------------------
# 4. Unknown recipes

cr_check_unknown_recipe() {
  local before=$CR_FAILURES
  local tmp="$1" output status
  output="$(LABRACK_IMAGES_OUT="$tmp/out" bash "$IMAGES_DIR/build.sh" no-such-recipe 2>&1)"
  status=$?
  [[ $status == 2 ]] || cr_fail "build.sh no-such-recipe: exit status $status, want 2"
  [[ $output == *'unknown recipe "no-such-recipe"'* ]] ||
    cr_fail "build.sh no-such-recipe: says \"$output\", want it to name the unknown recipe"
  [[ $output == *"${RECIPES[*]}"* ]] || cr_fail "build.sh no-such-recipe: does not list the recipes"
  [[ ! -e $tmp/out ]] || cr_fail "build.sh no-such-recipe: created $tmp/out"
  output="$(LABRACK_IMAGES_OUT="$tmp/out" bash "$IMAGES_DIR/build.sh" 2>&1)"
  status=$?
  [[ $status == 2 && $output == *usage:* ]] || cr_fail "build.sh without a recipe: exit $status, \"$output\""
  cr_ok "build.sh refuses unknown recipes" "$before"
}

cr_check_build_functions() {
  local before=$CR_FAILURES
  local recipe
  for recipe in "${RECIPES[@]}"; do
    declare -F "build_$recipe" >/dev/null || cr_fail "recipe $recipe: build.sh defines no build_$recipe"
  done
  cr_ok "build functions of ${RECIPES[*]}" "$before"
}

# ---------------------------------------------------------------------------------------

# --write-manifests DIR
cr_write_manifests() {
  local recipe status=0
  source "$IMAGES_DIR/build.sh" || exit 1
  set +e
  for recipe in "${RECIPES[@]}"; do
    cr_write_dummy_image "$recipe" "$1/$recipe" || { cr_fail "$recipe: writing its manifest failed"; status=1; }
  done
  exit "$status"
}

cr_main() {
  if [[ ${1:-} == --write-manifests && -n ${2:-} && $# == 2 ]]; then
    cr_write_manifests "$2"
  elif [[ $# != 0 ]]; then
    echo "usage: $(basename "$0") [--write-manifests DIR]" >&2
    exit 2
  fi
  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -rf '$tmp'" EXIT
  cr_check_syntax
  # build.sh only defines its functions when sourced; a recipe that fails to load stops here.
  if ! source "$IMAGES_DIR/build.sh"; then
    cr_fail "sourcing images/build.sh failed"
  else
    set +e
    cr_check_build_functions
    cr_check_debian_roles
    cr_check_debian_units
    cr_check_manifests "$tmp"
    cr_check_unknown_recipe "$tmp"
  fi
  if ((CR_FAILURES > 0)); then
    echo "check-recipes: $CR_FAILURES problem(s)" >&2
    exit 1
  fi
  echo "check-recipes: all recipes pass"
}

cr_main "$@"
