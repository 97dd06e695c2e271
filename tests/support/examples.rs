//! The example programs that tests run as client commands, built (in this
//! target directory, once per test process) so that a test never runs a stale
//! binary: `cargo build --example NAME` is a no-op when it is fresh.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// The path of example `name`, built if it is missing or stale.
pub fn example(name: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(path) = built.get_or_insert_with(HashMap::new).get(name) {
        return path.clone();
    }
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_hijack-harness"));
    let path = exe
        .parent()
        .expect("the binary is in a directory")
        .join("examples")
        .join(name);
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build --example {name} failed");
    assert!(path.exists(), "no {}", path.display());
    built
        .get_or_insert_with(HashMap::new)
        .insert(name.into(), path.clone());
    path
}
