#!/usr/bin/env bash
# CI fuzz smoke: build every cargo-fuzz target the way ClusterFuzzLite builds it
# (.clusterfuzzlite/build.sh, outside Docker, with OSS-Fuzz's ASan environment),
# check that every target and its seed corpus landed in $OUT, then run each
# binary from $OUT for a few seconds from the committed corpus. Fails when the
# build breaks, a target or seed corpus is missing, or a target crashes (the
# crash input is left in fuzz/artifacts/<target>/).
#
#   fuzz/smoke.sh [seconds per target, default 20]
#
# What it pays for, and why (2 cores): the build is most of it (about 9 minutes
# cold), and it stays ClusterFuzzLite's own (ASan, one codegen unit: 16 units
# were tried and built no faster here, 542 s against 523 s). The fuzzing runs two
# targets at a time, one per core, each for its full time: half the wall time.
#
# One build serves both jobs: the binaries ClusterFuzzLite would fuzz are the
# ones the smoke runs, so checking the ClusterFuzzLite build costs no second
# compile. What differs from OSS-Fuzz's image, and why it does not matter here:
# * libFuzzer: the image links its prebuilt libFuzzingEngine.a (CUSTOM_LIBFUZZER_PATH,
#   with libc++); here libfuzzer-sys builds its bundled libFuzzer (libstdc++).
# * the linker: the image sets clang (CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER);
#   here the default `cc` links, rustc brings the sanitizer runtime either way.
# * the toolchain: the image pins a nightly (RUSTUP_TOOLCHAIN); here the
#   installed nightly, or stable with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-20}"

source fuzz/cargo-fuzz.sh
# build.sh calls plain `cargo fuzz`: choose the toolchain as the image does.
if [[ -z "${RUSTC_BOOTSTRAP:-}" ]]; then
  export RUSTUP_TOOLCHAIN=nightly
fi

WORK="$(mktemp -d)"
# A fuzzer still running when a crash ends the script is ended by its PID.
# (`|| true`: with no job left, kill fails, and under set -e a failing trap
# would turn a clean run's exit status into 2.)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# OSS-Fuzz's environment for a Rust libFuzzer AddressSanitizer build, as its
# base-builder image and `compile` script set it (infra/base-images/base-builder).
export SRC="$WORK/src" OUT="$WORK/out"
export FUZZING_ENGINE=libfuzzer SANITIZER=address ARCHITECTURE=x86_64 FUZZING_LANGUAGE=rust
export RUSTFLAGS="--cfg fuzzing -Zsanitizer=${SANITIZER} -Cdebuginfo=1 -Cforce-frame-pointers"
mkdir -p "$SRC" "$OUT"
ln -s "$PWD" "$SRC/hijack-harness"
cp .clusterfuzzlite/build.sh "$SRC/build.sh"

echo "-- .clusterfuzzlite/build.sh (SANITIZER=$SANITIZER)"
start=$(date +%s)
bash -eu "$SRC/build.sh"
echo "built in $(($(date +%s) - start)) s"

# Every target cargo-fuzz knows is in $OUT, executable, with a seed corpus that
# holds every committed corpus file.
targets=$("${FUZZ[@]}" list)
[[ -n "$targets" ]] || { echo "fuzz smoke: cargo fuzz list found no target" >&2; exit 1; }
for target in $targets; do
  if [[ ! -x "$OUT/$target" ]]; then
    echo "fuzz smoke: build.sh left no $target in \$OUT" >&2
    exit 1
  fi
  if [[ ! -d "corpus/$target" ]]; then
    echo "fuzz smoke: $target has no committed corpus (corpus/$target)" >&2
    exit 1
  fi
  zip="$OUT/${target}_seed_corpus.zip"
  committed=$(find "corpus/$target" -type f | wc -l)
  zipped=$(unzip -Z1 "$zip" 2>/dev/null | grep -vc '/$' || true)
  if [[ "$committed" -eq 0 || "$zipped" -ne "$committed" ]]; then
    echo "fuzz smoke: $zip holds $zipped files, corpus/$target has $committed" >&2
    exit 1
  fi
  echo "$target: binary and ${target}_seed_corpus.zip ($zipped seeds) in \$OUT"
done

# The runner's sanitizer options (OSS-Fuzz's base-runner image).
export ASAN_OPTIONS="alloc_dealloc_mismatch=0:allocator_may_return_null=1:allocator_release_to_os_interval_ms=500:check_malloc_usable_size=0:detect_container_overflow=1:detect_odr_violation=0:detect_leaks=1:detect_stack_use_after_return=1:fast_unwind_on_fatal=0:handle_abort=1:handle_segv=1:handle_sigill=1:max_uar_stack_size_log=16:print_scariness=1:quarantine_size_mb=10:strict_memcmp=1:symbolize=1:use_sigaltstack=1:dedup_token_length=3"
# One target per core at a time: libFuzzer runs one thread, so two at once give
# each its full time in half the wall time.
fuzz_one() {
  local target=$1 log="$WORK/$1.log"
  mkdir -p "$WORK/corpus/$target" "fuzz/artifacts/$target"
  "$OUT/$target" "$WORK/corpus/$target" "corpus/$target" \
    -artifact_prefix="fuzz/artifacts/$target/" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -print_final_stats=1 >"$log" 2>&1
}
report_one() {
  local target=$1 rc=$2 log="$WORK/$1.log"
  echo "-- $target (${SECONDS_PER_TARGET}s)"
  if [[ "$rc" -ne 0 ]]; then
    tail -80 "$log" >&2
    echo "fuzz smoke: $target crashed (input in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$log" || true
}
set -- $targets
while (($#)); do
  first=$1 second=${2:-}
  shift
  [[ -n "$second" ]] && shift
  fuzz_one "$first" &
  pid_first=$!
  if [[ -n "$second" ]]; then
    fuzz_one "$second" &
    pid_second=$!
  fi
  rc=0; wait "$pid_first" || rc=$?
  report_one "$first" "$rc"
  if [[ -n "$second" ]]; then
    rc=0; wait "$pid_second" || rc=$?
    report_one "$second" "$rc"
  fi
done
