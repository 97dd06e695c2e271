#!/usr/bin/env bash
# Fuzzing throughput, the way the figures in docs/src/fuzzing.md and BENCHMARKS.md are
# taken: each target built without a sanitizer (`-s none`), run on one core from
# the committed corpus (new inputs go to a temporary directory) for a fixed time,
# one target after the other; prints libFuzzer's executions and exec/s.
#
#   fuzz/throughput.sh [seconds per target, default 30] [target ...]
#
# The rate depends on the inputs, so it is taken from the committed corpus, not an
# empty one (where the first seconds run tiny inputs and flatter the figure).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-30}"
shift || true
source fuzz/cargo-fuzz.sh

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || mapfile -t targets < <("${FUZZ[@]}" list)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
printf '%-16s %8s %12s %10s\n' target seconds executions exec/s
for target in "${targets[@]}"; do
  mkdir -p "$WORK/$target"
  seeds=()
  [[ -d "corpus/$target" ]] && seeds=("corpus/$target")
  log="$WORK/$target.log"
  # The target dir of detect.sh: a -s none build must not overwrite the
  # sanitizer build that smoke.sh uses.
  "${FUZZ[@]}" run -O -s none --target-dir fuzz/target/nosan "$target" "$WORK/$target" "${seeds[@]}" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -print_final_stats=1 >"$log" 2>&1 || {
    tail -40 "$log" >&2
    echo "throughput: $target crashed" >&2
    exit 1
  }
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  printf '%-16s %8s %12s %10s\n' "$target" "$SECONDS_PER_TARGET" "${execs:-?}" "${rate:-?}"
done
