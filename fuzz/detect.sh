#!/usr/bin/env bash
# Proof that fuzzing can fail, and how fast: from an EMPTY corpus, run
#
# * the handoff target that fits each mutant (server_handoff for server flaws,
#   client_handoff for client flaws) until the first crash;
# * the WebSocket target that fits each WebSocket mutant (ws_client for the
#   client flaw, ws_server for the server ones) with HIJACK_WS_MUTANT=<name>;
# * proxy_handoff once per failing proxy mutant, with HIJACK_PROXY_MUTANT=<name>
#   (the non-strict ones, which break only SHOULDs, pass the target by design);
# * hyper_server once per known hyper finding (README, "Findings"), with the
#   findings filter off for that finding (HIJACK_FINDING=<name>: only its cases
#   run, so the first crash is that finding);
#
# and print how long and how many executions each took: the time-to-find table.
# One that survives the time limit is reported and the script exits 1.
#
#   fuzz/detect.sh [--save] [seconds per row, default 60]
#
# ONLY=<kind> (mutant, ws-mut, proxy, finding) runs the rows of one kind, and
# builds only the targets they need.
#
# --save copies each mutant's crash input to corpus/<target>/mutant-<name>: the
# reference must pass it (tests/corpus.rs replays it), and it keeps the bug's
# shape in the committed corpus. (The finding-* files are written by the seed
# generator in tests/corpus.rs instead, from the scenario of each regression test.)
# SEED (default 1) fixes libFuzzer's seed for a repeatable table.
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
  "hands-over-unread-body server_handoff"
  "sends-continue-late server_handoff"
  "client-reads-past-head client_handoff"
  "client-hands-over-on-refusal client_handoff"
)

# Every WebSocket mutant and the target that runs it (HIJACK_WS_MUTANT replaces
# the library the first byte picks); tests/corpus.rs checks this list against
# WsMutant::ALL.
WS_MUTANTS=(
  "ws-drops-handshake-tail ws_client"
  "ws-delivers-twice ws_server"
  "ws-invents-close ws_server"
  "ws-drops-first-send ws_server"
  "ws-sends-unasked-pong ws_server"
)

# Every proxy mutant that breaks a MUST (HIJACK_PROXY_MUTANT replaces the
# reference proxy); tests/corpus.rs checks this list against ProxyFlaw::ALL.
PROXY_MUTANTS=(
  "tunnels-after-refusal proxy_handoff"
  "forwards-early proxy_handoff"
  "loses-read-ahead proxy_handoff"
  "relays-unoffered-token proxy_handoff"
  "forwards-h2c proxy_handoff"
  "forwards-connect-early-data-on-refusal proxy_handoff"
  "swallows-fin proxy_handoff"
  "honours-http10-upgrade proxy_handoff"
)

# Every known hyper finding (HyperServerOptions::known_finding); tests/corpus.rs
# checks this list against subject::hyper::KNOWN_FINDINGS.
FINDINGS=(
  "pipeline_flush_loses_101_head"
  "half_close_false_drops_pipelined_request"
  "dropped_body_handed_to_upgrade"
  "dropped_body_skips_100_before_101"
)

source fuzz/cargo-fuzz.sh
# No sanitizer: these bugs are wrong bytes, not memory errors, and speed matters.
# A target dir of its own, so that this build and the sanitizer build of
# smoke.sh do not overwrite each other's dependencies.
ONLY="${ONLY:-}"
case "$ONLY" in
  "") TARGETS=(server_handoff client_handoff ws_server ws_client proxy_handoff hyper_server) ;;
  mutant) TARGETS=(server_handoff client_handoff) ;;
  ws-mut) TARGETS=(ws_server ws_client) ;;
  proxy) TARGETS=(proxy_handoff) ;;
  finding) TARGETS=(hyper_server) ;;
  *) echo "ONLY=$ONLY: one of mutant, ws-mut, proxy, finding" >&2; exit 2 ;;
esac
for target in "${TARGETS[@]}"; do
  "${FUZZ[@]}" build -O -s none --target-dir fuzz/target/nosan "$target" >&2 || exit 2
done
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
BIN="fuzz/target/nosan/$TRIPLE/release"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
MARK="hijack-harness: oracle verdict failed"
survivors=0

# hunt KIND NAME TARGET VAR: fuzz TARGET with VAR=NAME from an empty corpus until
# the first crash; prints the table row; sets CRASH to the crash input, if any.
hunt() {
  local kind="$1" name="$2" target="$3" var="$4"
  CRASH=""
  [[ -z "$ONLY" || "$ONLY" == "$kind" ]] || return 0
  local dir="$WORK/$kind-$name"
  mkdir -p "$dir/corpus"
  local start end status seconds execs result
  start=$(date +%s.%N)
  env "$var=$name" "$BIN/$target" "$dir/corpus" \
    -seed="$SEED" -max_total_time="$LIMIT" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$dir/" >"$dir/log" 2>&1
  status=$?
  end=$(date +%s.%N)
  seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  [[ -n "$execs" ]] || execs=$(grep -o '^#[0-9]*' "$dir/log" | tail -1 | tr -d '#')
  CRASH=$(ls "$dir"/crash-* 2>/dev/null | head -1)
  if [[ $status -ne 0 && -n "$CRASH" ]] && grep -q "$MARK" "$dir/log"; then
    result=caught
  elif [[ $status -ne 0 ]]; then
    result="ERROR (exit $status, not an oracle failure; see below)"
    survivors=$((survivors + 1))
    tail -20 "$dir/log" >&2
    CRASH=""
  else
    result="SURVIVED ${LIMIT}s"
    survivors=$((survivors + 1))
    CRASH=""
  fi
  printf '%-8s %-42s %-15s %8s %12s  %s\n' "$kind" "$name" "$target" "$seconds" "${execs:-?}" "$result"
}

printf '%-8s %-42s %-15s %8s %12s  %s\n' kind name target seconds executions result
# hunt_all KIND VAR ENTRY...: hunts each "NAME TARGET" entry with VAR=NAME;
# with --save, keeps each crash input as corpus/TARGET/mutant-NAME.
hunt_all() {
  local kind="$1" var="$2" entry mutant target
  shift 2
  for entry in "$@"; do
    read -r mutant target <<<"$entry"
    hunt "$kind" "$mutant" "$target" "$var"
    if [[ $SAVE == 1 && -n "$CRASH" ]]; then
      mkdir -p "corpus/$target"
      cp "$CRASH" "corpus/$target/mutant-$mutant"
    fi
  done
}
hunt_all mutant HIJACK_MUTANT "${MUTANTS[@]}"
hunt_all ws-mut HIJACK_WS_MUTANT "${WS_MUTANTS[@]}"
hunt_all proxy HIJACK_PROXY_MUTANT "${PROXY_MUTANTS[@]}"
for finding in "${FINDINGS[@]}"; do
  hunt finding "$finding" hyper_server HIJACK_FINDING
done
if [[ $survivors -gt 0 ]]; then
  echo "$survivors mutant(s) or finding(s) not found" >&2
  exit 1
fi
echo "every mutant and every known finding found"
