//! The example programs that tests run as client commands, as cargo built them.
//!
//! A test builds nothing itself: `cargo test` (and `cargo test --release`)
//! builds every example, in the profile of the run, before it runs any test
//! binary ("examples are built to ensure they compile"), into
//! `target/<profile>/examples/`, beside the folder of the harness binary that
//! `CARGO_BIN_EXE_hijack-harness` names. A run that picks one test binary
//! (`cargo test --test cli`) does not build them: then a missing example, or one
//! older than a source it is built from, is a failure that says what to run,
//! never a stale binary run in silence.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The path of example `name`, as `cargo test` built it for this run.
pub fn example(name: &str) -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_hijack-harness"));
    let path = exe
        .parent()
        .expect("the binary is in a directory")
        .join("examples")
        .join(name);
    let build = format!(
        "`cargo test` builds the examples before the tests; a run of one test binary does not: \
         run `cargo build{} --examples` first",
        if exe.components().any(|c| c.as_os_str() == "release") {
            " --release"
        } else {
            " --profile test"
        }
    );
    let built = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("example {name} is not built ({}): {build}", path.display()));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = [
        root.join("src"),
        root.join("examples").join(format!("{name}.rs")),
    ];
    if let Some(newer) = sources.iter().find_map(|s| newer_than(s, built)) {
        panic!(
            "example {name} ({}) is older than {}: {build}",
            path.display(),
            newer.display()
        );
    }
    path
}

/// A file at or under `path` modified after `time`, if there is one.
fn newer_than(path: &Path, time: SystemTime) -> Option<PathBuf> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_dir() {
        std::fs::read_dir(path)
            .ok()?
            .flatten()
            .find_map(|entry| newer_than(&entry.path(), time))
    } else {
        (meta.modified().ok()? > time).then(|| path.to_path_buf())
    }
}
