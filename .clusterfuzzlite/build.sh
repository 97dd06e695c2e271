#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: every cargo-fuzz target into $OUT, each with
# the committed corpus as its seed corpus ($OUT/<target>_seed_corpus.zip).
#
# Where it runs:
# * In OSS-Fuzz's base-builder-rust image (.clusterfuzzlite/Dockerfile), called by
#   the image's `compile` with SRC, OUT, SANITIZER and RUSTFLAGS set (for ASan:
#   RUSTFLAGS="--cfg fuzzing -Zsanitizer=address -Cdebuginfo=1 -Cforce-frame-pointers"),
#   a nightly toolchain (RUSTUP_TOOLCHAIN) and cargo-fuzz installed.
# * Outside Docker in CI's fuzz smoke (fuzz/smoke.sh), with the same variables,
#   so that this script is known to build before anyone enables ClusterFuzzLite.
cd "$SRC/hijack-harness"

# cargo-fuzz adds its own sanitizer flag to RUSTFLAGS; match the one the builder
# asks for. Rust has no UBSan (the builder's RUSTFLAGS carry no sanitizer for
# `undefined`), and a `coverage` build never runs cargo-fuzz: the builder's
# `cargo` wrapper turns `cargo fuzz build` into `cargo build --bins`.
case "${SANITIZER:-address}" in
  address | memory | thread) sanitizer="$SANITIZER" ;;
  *) sanitizer=none ;;
esac

# cargo-fuzz builds for --target <host> into fuzz/target/<triple>/release.
triple="$(rustc -vV | sed -n 's/^host: //p')"
cargo fuzz build -O --sanitizer "$sanitizer" --target "$triple"
built="fuzz/target/$triple/release"

for source in fuzz/fuzz_targets/*.rs; do
  target="$(basename "${source%.rs}")"
  cp "$built/$target" "$OUT/"
  if [ -d "corpus/$target" ]; then
    # A fresh archive: zip would otherwise add to a stale one from an earlier build.
    rm -f "$OUT/${target}_seed_corpus.zip"
    (cd "corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  fi
done
