#!/usr/bin/env bash
# The bollard example (its own Cargo project, not a member of hijack-harness),
# built into $HH_INTEROP_DIR so the main target directory stays untouched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest="${HH_INTEROP_DIR:-/tmp/hh-interop}/bollard"
cargo build --quiet --locked --manifest-path "$here/Cargo.toml" --target-dir "$dest/target"
ls -l "$dest/target/debug/bollard-attach"
