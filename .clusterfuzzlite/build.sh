#!/bin/bash -eu
# ClusterFuzzLite build: every cargo-fuzz target, with the committed corpus as
# each target's seed corpus. The sanitizer comes from the builder's environment.
cd "$SRC/hijack-harness"
cargo fuzz build -O
FUZZ_TARGET_OUTPUT_DIR=fuzz/target/x86_64-unknown-linux-gnu/release
for f in fuzz/fuzz_targets/*.rs; do
  target=$(basename "${f%.*}")
  cp "$FUZZ_TARGET_OUTPUT_DIR/$target" "$OUT/"
  if [ -d "corpus/$target" ]; then
    (cd "corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  fi
done
