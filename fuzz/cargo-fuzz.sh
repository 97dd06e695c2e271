# Sourced by the fuzz/ scripts: sets FUZZ to the cargo-fuzz command to use.
# `cargo +nightly fuzz` when a nightly toolchain is installed, otherwise plain
# `cargo fuzz` with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly-only flags);
# installs cargo-fuzz when it is missing.
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  FUZZ=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  FUZZ=(cargo fuzz)
fi
