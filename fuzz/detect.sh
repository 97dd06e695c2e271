#!/usr/bin/env bash
# Proof that fuzzing can fail: run the handoff target that fits each mutant
# (server_handoff for server flaws, client_handoff for client flaws) from an EMPTY
# corpus until the first crash, and print how long and how many executions it
# took. A mutant that survives the time limit is reported and the script exits 1.
#
#   fuzz/detect.sh [--save] [seconds per mutant, default 60]
#
# --save copies each crash input to corpus/<target>/mutant-<name>: the reference
# must pass it (tests/corpus.rs replays it), and it keeps the bug's shape in the
# committed corpus. SEED (default 1) fixes libFuzzer's seed for a repeatable table.
# Builds with `cargo +nightly fuzz` when nightly is installed, otherwise with
# RUSTC_BOOTSTRAP=1 on stable; installs cargo-fuzz when missing.
set -uo pipefail
cd "$(dirname "$0")/.."

SAVE=0
if [[ "${1:-}" == "--save" ]]; then SAVE=1; shift; fi
LIMIT="${1:-60}"
SEED="${SEED:-1}"

# Every mutant and the target that can see it; tests/corpus.rs checks this list
# against Mutant::all(), so a new mutant cannot be forgotten here.
MUTANTS=(
  "ignores-read-ahead server_handoff"
  "drops-first-packet server_handoff"
  "loses-background-byte server_handoff"
  "replays-read-ahead-twice server_handoff"
  "replays-read-ahead-late server_handoff"
  "drops-unflushed-writes server_handoff"
  "writes-after-hijack server_handoff"
  "closes-after-hand-over server_handoff"
  "leaves-chunked-body server_handoff"
  "loses-close-write server_handoff"
  "server-hands-over-on-refusal server_handoff"
  "client-reads-past-head client_handoff"
  "client-hands-over-on-refusal client_handoff"
)

source fuzz/cargo-fuzz.sh
# No sanitizer: these bugs are wrong bytes, not memory errors, and speed matters.
# A target dir of its own, so that this build and the sanitizer build of
# smoke.sh do not overwrite each other's dependencies.
"${FUZZ[@]}" build -O -s none --target-dir fuzz/target/nosan server_handoff >&2 || exit 2
"${FUZZ[@]}" build -O -s none --target-dir fuzz/target/nosan client_handoff >&2 || exit 2
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
BIN="fuzz/target/nosan/$TRIPLE/release"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
MARK="hijack-harness: oracle verdict failed"
survivors=0
printf '%-32s %-15s %8s %12s  %s\n' mutant target seconds executions result
for entry in "${MUTANTS[@]}"; do
  read -r mutant target <<<"$entry"
  dir="$WORK/$mutant"
  mkdir -p "$dir/corpus"
  start=$(date +%s.%N)
  HIJACK_MUTANT="$mutant" "$BIN/$target" "$dir/corpus" \
    -seed="$SEED" -max_total_time="$LIMIT" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$dir/" >"$dir/log" 2>&1
  status=$?
  end=$(date +%s.%N)
  seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  [[ -n "$execs" ]] || execs=$(grep -o '^#[0-9]*' "$dir/log" | tail -1 | tr -d '#')
  crash=$(ls "$dir"/crash-* 2>/dev/null | head -1)
  if [[ $status -ne 0 && -n "$crash" ]] && grep -q "$MARK" "$dir/log"; then
    result=caught
    if [[ $SAVE == 1 ]]; then
      mkdir -p "corpus/$target"
      cp "$crash" "corpus/$target/mutant-$mutant"
    fi
  elif [[ $status -ne 0 ]]; then
    result="ERROR (exit $status, not an oracle failure; see below)"
    survivors=$((survivors + 1))
    tail -20 "$dir/log" >&2
  else
    result="SURVIVED ${LIMIT}s"
    survivors=$((survivors + 1))
  fi
  printf '%-32s %-15s %8s %12s  %s\n' "$mutant" "$target" "$seconds" "${execs:-?}" "$result"
done
if [[ $survivors -gt 0 ]]; then
  echo "$survivors mutant(s) not caught" >&2
  exit 1
fi
echo "every mutant caught"
