#!/usr/bin/env bash
# CI fuzz smoke: build every cargo-fuzz target (default sanitizer, ASan) and run
# each for a few seconds from the committed corpus. Fails on any crash (libFuzzer
# exits non-zero, and the crash input is left in fuzz/artifacts/<target>/).
#
#   fuzz/smoke.sh [seconds per target, default 20]
#
# Uses `cargo +nightly` when a nightly toolchain is installed, otherwise
# RUSTC_BOOTSTRAP=1 on stable (cargo-fuzz needs nightly-only flags); installs
# cargo-fuzz when it is missing. New inputs go to a temporary directory, so the
# committed corpus/ is only read.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-20}"

source fuzz/cargo-fuzz.sh

"${FUZZ[@]}" build -O
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for target in $("${FUZZ[@]}" list); do
  echo "-- $target (${SECONDS_PER_TARGET}s)"
  mkdir -p "$WORK/$target"
  seeds=()
  [[ -d "corpus/$target" ]] && seeds=("corpus/$target")
  log="$WORK/$target.log"
  if ! "${FUZZ[@]}" run -O "$target" "$WORK/$target" "${seeds[@]}" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    tail -80 "$log" >&2
    echo "fuzz smoke: $target crashed (input in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$log" || true
done
