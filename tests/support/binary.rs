//! The harness binary as a test runs it: its exit code, stdout and stderr, and
//! the totals line of its text report.
#![allow(dead_code)]

/// Runs the binary with `args`, and gives its exit code, stdout and stderr.
pub fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hijack-harness"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The totals line of a text report: `N results: ...`.
pub fn totals(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.contains(" results: "))
        .unwrap_or_default()
}
