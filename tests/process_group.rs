//! Every client command runs in a process group of its own, and the group is
//! killed when its case ends: a client that forks a child leaves nothing
//! running after the case, whether the command exited at once (the child
//! outlives the shell) or had to be stopped at the time limit. Each test runs
//! the real path, `run --client-cmd` of the harness binary, for the echo
//! contract and for `--protocol docker`.
//!
//! The command forks `sleep 30`, and writes the child's PID and its start time
//! (field 22 of `/proc/PID/stat`) to a file: "still running" means a process
//! with that PID *and* that start time exists and is not a zombie (the killed
//! child is re-parented to PID 1, which may not reap it), so a reused PID is
//! never mistaken for the child.

#[path = "support/binary.rs"]
mod binary;

use std::path::Path;
use std::time::{Duration, Instant};

/// The child's PID and start time, as the command wrote them.
fn forked_child(pidfile: &Path) -> (u32, String) {
    let text = std::fs::read_to_string(pidfile)
        .unwrap_or_else(|e| panic!("the command wrote no PID file ({e})"));
    let mut fields = text.split_whitespace();
    let pid = fields.next().and_then(|p| p.parse().ok()).expect("a PID");
    let start = fields.next().expect("a start time").to_string();
    (pid, start)
}

/// Whether the process `pid`, started at `start`, is alive (not a zombie).
fn running(pid: u32, start: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The command name may hold spaces and parentheses: the fields after it
    // start at the last `)`. State is field 3, start time field 22.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first().copied().unwrap_or("X");
    let started = fields.get(19).copied().unwrap_or_default();
    started == start && !matches!(state, "Z" | "X" | "x")
}

/// Waits (at most 5 s) for the process to be gone; whether it is.
fn gone_soon(pid: u32, start: &str) -> bool {
    let limit = Instant::now() + Duration::from_secs(5);
    while running(pid, start) {
        if Instant::now() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Runs `run --client-cmd` with a command that forks `sleep 30`, records it,
/// then does `then` (`exit` at once, or `wait` for the child); asserts the
/// child is gone after the run, and kills it if not (by its PID, checked).
fn leaves_nothing_running(protocol: Option<&str>, case: &str, then: &str) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let pidfile = dir.path().join("child.pid");
    let command = format!(
        "sleep 30 </dev/null >/dev/null 2>&1 & child=$!; echo $child $(cut -d')' -f2- /proc/$child/stat | cut -d' ' -f21) > {}; : {{addr}}; {then}",
        pidfile.display()
    );
    let mut args = vec![
        "run",
        "--client-cmd",
        &command,
        "--cases",
        case,
        "--timeout",
        "1500",
    ];
    if let Some(protocol) = protocol {
        args.extend(["--protocol", protocol]);
    }
    let (code, stdout, stderr) = binary::run(&args);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 results:") && stdout.contains("1 error"),
        "{stdout}\n{stderr}"
    );
    let (pid, start) = forked_child(&pidfile);
    let gone = gone_soon(pid, &start);
    if !gone && running(pid, &start) {
        // SAFETY: kill only sends a signal, to the child this test's command
        // forked (same PID and start time), which the harness left behind.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
    assert!(
        gone,
        "{protocol:?} `{then}`: the client's child {pid} still runs after its case\n{stdout}"
    );
}

#[test]
fn an_echo_client_that_exits_leaves_no_child_behind() {
    leaves_nothing_running(None, "handoff.server-speaks-first", "exit 0");
}

#[test]
fn an_echo_client_stopped_at_the_time_limit_leaves_no_child_behind() {
    leaves_nothing_running(None, "handoff.server-speaks-first", "wait");
}

#[test]
fn a_docker_client_that_exits_leaves_no_child_behind() {
    leaves_nothing_running(Some("docker"), "docker.output.tty.early.300", "exit 0");
}

#[test]
fn a_docker_client_stopped_at_the_time_limit_leaves_no_child_behind() {
    leaves_nothing_running(Some("docker"), "docker.output.tty.early.300", "wait");
}
