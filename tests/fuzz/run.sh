#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, in a build folder of its own beside
# the gcc build, and runs each on a copy of its corpus for a bounded time (ctest
# fuzz_parsers; docs/fuzzing.md). Exits non-zero when a target crashes, hangs, leaks, runs
# out of memory or breaks a property, naming the input it kept in a temporary folder; the
# repository is never written to.
#   tests/fuzz/run.sh [SECONDS]    seconds per target (default 60, or LABRACK_FUZZ_SECONDS);
#                                  the targets run at the same time, one core each
# LABRACK_BINARY_DIR: the gcc build folder (default build/); the fuzz build is its fuzz/.
# LABRACK_FUZZ_JOBS: compile jobs (default: every core).
set -euo pipefail

readonly SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly FUZZ_DIR="$SOURCE_DIR/tests/fuzz"
readonly BUILD_DIR="$(realpath -m "${LABRACK_BINARY_DIR:-$SOURCE_DIR/build}")/fuzz"
readonly SECONDS_PER_TARGET="${1:-${LABRACK_FUZZ_SECONDS:-60}}"
readonly JOBS="${LABRACK_FUZZ_JOBS:-$(nproc)}"
readonly TARGETS=(topology manifest)
# An input taking longer is a hang. The slowest seeds take 0.2 s of CPU under the
# sanitizers, but the limit is wall time, which a loaded machine stretches many times over.
readonly SECONDS_PER_INPUT=30
# Inputs are at most a few KiB (libFuzzer's max_len follows the largest seed).
readonly RSS_LIMIT_MB=2048

die() {
  echo "fuzz: $*" >&2
  exit 1
}

build() {
  command -v clang++ >/dev/null || die "clang++ not found (deploy/install-deps.sh installs it)"
  # The top CMakeLists.txt puts ccache in front of the compiler when it is installed.
  CC=clang CXX=clang++ cmake -S "$SOURCE_DIR" -B "$BUILD_DIR" -DLABRACK_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j"$JOBS" --target "${TARGETS[@]/%/_fuzzer}"
}

count_files() {
  find "$1" -type f | wc -l
}

# Prints why target $1 failed (exit status $2) and the inputs it kept.
report_failure() {
  local target=$1 status=$2 dir="$WORK/$1"
  tail -n 60 "$dir/log" >&2
  echo "fuzz: $target FAILED (libFuzzer exit status $status); full log: $dir/log" >&2
  local input
  for input in "$dir"/artifacts/*; do
    [[ -e $input ]] || continue
    echo "fuzz: $target: failing input: $input" >&2
    echo "fuzz:   reproduce: $BUILD_DIR/bin/${target}_fuzzer '$input'" >&2
  done
}

# Runs target $1 on a copy of its corpus; returns libFuzzer's exit status.
fuzz_one() {
  local target=$1 dir="$WORK/$1"
  mkdir -p "$dir/artifacts"
  cp -r "$FUZZ_DIR/corpus/$target" "$dir/corpus"
  local seeds status=0
  seeds=$(count_files "$dir/corpus")
  "$BUILD_DIR/bin/${target}_fuzzer" "$dir/corpus" -dict="$FUZZ_DIR/$target.dict" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout="$SECONDS_PER_INPUT" \
    -rss_limit_mb="$RSS_LIMIT_MB" -artifact_prefix="$dir/artifacts/" -print_final_stats=1 \
    >"$dir/log" 2>&1 || status=$?
  local runs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
  echo "fuzz: $target: ${runs:-?} inputs in ${SECONDS_PER_TARGET}s," \
    "corpus $seeds -> $(count_files "$dir/corpus") inputs"
  if ((status != 0)); then
    report_failure "$target" "$status"
    return "$status"
  fi
}

main() {
  local started=$SECONDS
  build
  echo "fuzz: fuzz build ready in $((SECONDS - started)) s"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/labrack-fuzz.XXXXXX")
  # Kept only when a target failed, for its inputs and log.
  trap '[[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM  # ctest's timeout: still clean up
  export UBSAN_OPTIONS=print_stacktrace=1
  # The targets run side by side, each on one core: each still gets its full time.
  local target failed=() pids=()
  for target in "${TARGETS[@]}"; do
    fuzz_one "$target" &
    pids+=($!)
  done
  local i
  for i in "${!TARGETS[@]}"; do
    wait "${pids[$i]}" || failed+=("${TARGETS[$i]}")
  done
  if ((${#failed[@]} > 0)); then
    KEEP_WORK=1
    die "${failed[*]} failed; inputs and logs kept in $WORK"
  fi
  echo "fuzz: no failures in ${#TARGETS[@]} targets ($((SECONDS - started)) s in all)"
}

main "$@"
