//! A counterexample replays from the one line its report prints: the scenario's
//! hex goes through `hijack-harness trace --scenario`, `HIJACK_SCENARIO`, and
//! `properties::replay_server`, and each gives back the same verdict.
//!
//! The report itself reads top-down: the verdict on the first line, then the wire,
//! the scenario in words, and the `replay:` line last.

#[path = "support/examples.rs"]
mod examples;
mod support;

use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use hijack_harness::check::Run;
use hijack_harness::properties::{
    self, Config, assert_server_conforms, replay_client, replay_server, scenario_from_hex,
};
use hijack_harness::subject::mutants::{Flaw, Mutant};
use hijack_harness::subject::reference::ReferenceServer;
use hijack_harness::subject::{BoxFuture, BoxIo, ServerHandler, ServerSubject, SubjectError};

/// The `FAIL` lines of `trace` output, one per violation, which a replay must
/// reproduce exactly.
fn fail_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("FAIL ")).collect()
}

/// The verdict a report opens with: its first run of `FAIL` lines (the wire's
/// diagnosis repeats them further down, with the carets).
fn report_verdict(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.starts_with("FAIL "))
        .take_while(|l| l.starts_with("FAIL "))
        .collect()
}

fn verdict_lines(run: &Run) -> Vec<String> {
    run.verdict
        .to_string()
        .lines()
        .filter(|l| l.starts_with("FAIL "))
        .map(str::to_owned)
        .collect()
}

/// ` --release` when this test runs from a release build (`cargo test --release`),
/// as a replay line printed here says it.
fn profile_flag() -> &'static str {
    let exe = std::env::current_exe().expect("this test binary");
    let release = exe
        .parent()
        .and_then(|deps| deps.parent())
        .is_some_and(|profile| profile.ends_with("release"));
    if release { " --release" } else { "" }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The hex of a `replay:` line (`HIJACK_SCENARIO=HEX ...` or `... --scenario HEX ...`).
fn replay_hex(report: &str) -> String {
    let line = report
        .lines()
        .find(|l| l.starts_with("replay: "))
        .unwrap_or_else(|| panic!("no replay line in:\n{report}"));
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("HIJACK_SCENARIO="))
        .or_else(|| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words
                .iter()
                .position(|w| *w == "--scenario")
                .and_then(|i| words.get(i + 1).copied())
        })
        .unwrap_or_else(|| panic!("no hex in {line:?}"))
        .to_owned()
}

/// Every mutant: its shrunk counterexample, through its hex, replays on the
/// command line (`trace --scenario HEX --subject mutant:NAME --side SIDE`) and
/// through `replay_server`/`replay_client` with the very same verdict.
#[test]
fn every_mutant_counterexample_replays_from_its_hex() {
    for mutant in Mutant::all() {
        let counterexample = support::counterexample(mutant);
        let run = &counterexample.run;
        let report = counterexample.to_string();
        let hex = counterexample
            .scenario_hex()
            .expect("a generated scenario encodes");
        assert_eq!(replay_hex(&report), hex, "the report prints the hex");
        assert_eq!(
            scenario_from_hex(&hex).expect("valid hex"),
            *run.scenario,
            "{}: the hex decodes to the shrunk scenario",
            mutant.name()
        );

        let out = Command::cargo_bin("hijack-harness")
            .expect("the binary is built")
            .args(["trace", "--scenario", &hex, "--subject"])
            .arg(format!("mutant:{}", mutant.name()))
            .args(["--side", &run.side.to_string()])
            .output()
            .expect("runs");
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{}: {text}", mutant.name());
        assert_eq!(
            fail_lines(&text),
            verdict_lines(run),
            "{}: trace --scenario gives the counterexample's verdict",
            mutant.name()
        );
        assert!(text.contains("\nthe scenario:\n"), "{text}");

        let replayed = match (mutant.server(), mutant.client()) {
            (Some(server), _) => replay_server(&server, &hex),
            (_, Some(client)) => replay_client(&client, &hex),
            _ => unreachable!("a mutant is a server or a client"),
        }
        .expect("valid hex");
        assert_eq!(replayed.verdict, run.verdict, "{}", mutant.name());
    }
}

/// The order a person reads: the verdict first, the wire with its carets, the
/// scenario in words, the replay line last; no `Debug` dump of the scenario.
#[test]
fn the_report_reads_top_down() {
    let counterexample = support::counterexample(Mutant::Server(Flaw::IgnoresReadAhead));
    let report = counterexample.to_string();
    let lines: Vec<&str> = report.lines().collect();
    assert!(
        lines[0].starts_with("FAIL point 1 (read side, server): "),
        "{report}"
    );
    let at = |needle: &str| {
        report
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing from:\n{report}"))
    };
    assert!(
        at("\nthe wire, with mutant:ignores-read-ahead as the server:\n")
            < at("== server hijacked ==")
    );
    assert_eq!(report_verdict(&report), verdict_lines(&counterexample.run));
    assert!(at("== server hijacked ==") < at("  lost "));
    assert!(at("  lost ") < at("\nthe scenario:\n  upgrade `"));
    assert!(at("\nthe scenario:\n") < at("\nreplay: HIJACK_SCENARIO="));
    assert!(
        lines.last().is_some_and(|l| l.starts_with("replay: ")),
        "{report}"
    );
    assert!(
        !report.contains("Payload {"),
        "no Debug dump by default:\n{report}"
    );
    let full = format!("{counterexample:#?}");
    assert!(full.contains("Payload {"), "{{:#?}} still has every field");
}

/// A subject the command line does not know, as a library author writes one.
struct MyServer(ReferenceServer);

impl ServerSubject for MyServer {
    fn name(&self) -> String {
        "my server".into()
    }

    fn serve(
        &self,
        io: BoxIo,
        handler: ServerHandler,
    ) -> BoxFuture<'static, Result<(), SubjectError>> {
        self.0.serve(io, handler)
    }
}

fn my_broken_server() -> MyServer {
    MyServer(
        Mutant::Server(Flaw::IgnoresReadAhead)
            .server()
            .expect("a server mutant"),
    )
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// The assertion helper panics with the report, and in a test its replay line is
/// `cargo test` of that very test (libtest names the thread after it).
#[test]
fn the_assertion_helper_panics_with_a_replay_of_this_test() {
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        assert_server_conforms(&my_broken_server())
    }));
    let message = panic_message(caught.expect_err("the broken server fails"));
    assert!(
        message.starts_with("FAIL point 1 (read side, server): "),
        "{message}"
    );
    let replay = message.lines().last().unwrap_or_default();
    assert!(replay.starts_with("replay: HIJACK_SCENARIO="), "{replay}");
    let rerun = format!(
        " cargo test{} -p hijack-harness the_assertion_helper_panics_with_a_replay_of_this_test -- --exact",
        profile_flag()
    );
    assert!(replay.ends_with(&rerun), "{replay}");
    let run = replay_server(&my_broken_server(), &replay_hex(&message)).expect("valid hex");
    assert_eq!(report_verdict(&message), verdict_lines(&run));
}

/// What `HIJACK_SCENARIO=HEX cargo test NAME -- --exact` runs: the named test, in
/// a process whose property checks replay HEX instead of generating scenarios.
#[test]
#[ignore = "run by hijack_scenario_replays_in_the_test_it_names, with HIJACK_SCENARIO set"]
fn replayed_by_hijack_scenario() {
    assert_server_conforms(&my_broken_server());
}

fn run_replayed(hex: &str) -> Output {
    Command::new(std::env::current_exe().expect("this test binary"))
        .args(["replayed_by_hijack_scenario", "--exact", "--ignored"])
        .env("HIJACK_SCENARIO", hex)
        // No generated scenario at all: a failure can only come from the replay.
        .env("PROPTEST_CASES", "0")
        .output()
        .expect("runs")
}

#[test]
fn hijack_scenario_replays_in_the_test_it_names() {
    let Err(counterexample) = properties::check_server(&my_broken_server(), &Config::seeded(3))
    else {
        panic!("the broken server passed");
    };
    let hex = counterexample.scenario_hex().expect("encodes");
    let out = run_replayed(&hex);
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "the replay fails again:\n{text}");
    assert_eq!(
        report_verdict(&text),
        verdict_lines(&counterexample.run),
        "{text}"
    );
    assert!(
        text.contains(&format!("replay: HIJACK_SCENARIO={hex} ")),
        "{text}"
    );

    let out = run_replayed("0x");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        text.contains("HIJACK_SCENARIO: 'x' at position 1 is not a hex digit"),
        "bad hex is an error, never a silent pass:\n{text}"
    );
}

/// `cargo run --example byo_subject`: the verdict on the first line, and a replay
/// line whose command runs that example again with `HIJACK_SCENARIO`, failing the
/// same way; with `--fixed`, the same replay passes.
///
/// The example is the one `cargo test` built for this run (in its profile) and is
/// run directly: the printed `cargo run` differs only in building it first.
#[test]
fn byo_subject_prints_a_replay_that_reproduces() {
    let example = examples::example("byo_subject");
    let first = Command::new(&example).output().expect("runs");
    let report = stdout(&first);
    assert_eq!(first.status.code(), Some(1), "{report}");
    assert!(
        report.starts_with("FAIL point 1 (read side, server): "),
        "{report}"
    );
    let replay = report.lines().last().unwrap_or_default();
    let hex = replay_hex(&report);
    assert_eq!(
        replay,
        format!(
            "replay: HIJACK_SCENARIO={hex} cargo run{} -p hijack-harness --example byo_subject",
            profile_flag()
        )
    );

    let again = Command::new(&example)
        .env("HIJACK_SCENARIO", &hex)
        .output()
        .expect("runs");
    let text = stdout(&again);
    assert_eq!(again.status.code(), Some(1), "{text}");
    assert_eq!(report_verdict(&text), report_verdict(&report));
    assert_eq!(text.lines().last(), Some(replay));

    let fixed = Command::new(&example)
        .arg("--fixed")
        .env("HIJACK_SCENARIO", &hex)
        .output()
        .expect("runs");
    assert_eq!(fixed.status.code(), Some(0), "{}", stdout(&fixed));
    assert!(
        stdout(&fixed).contains(": 1 scenario passed"),
        "{}",
        stdout(&fixed)
    );
}

/// A fuzz target's crash message is the same report, after the mark that
/// `fuzz/detect.sh` looks for, and its replay line is a `trace` command that runs
/// as printed (the fuzz targets test subjects the command line knows).
#[test]
fn a_fuzz_crash_is_the_same_report_with_a_trace_replay() {
    let mutant = Mutant::Server(Flaw::IgnoresReadAhead);
    let server = mutant.server().expect("a server mutant");
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/server_handoff/mutant-ignores-read-ahead");
    let data = std::fs::read(&seed).expect("the mutant's corpus file");
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        hijack_harness::fuzzing::server_handoff_with(&server, &data)
    }));
    let message = panic_message(caught.expect_err("the mutant fails its corpus file"));
    let mark = format!(
        "{}: FAIL point 1 (read side, server): ",
        hijack_harness::fuzzing::FAILURE_MARK
    );
    assert!(message.starts_with(&mark), "{message}");
    assert!(message.contains("\nthe scenario:\n  "), "{message}");
    let replay = message.lines().last().unwrap_or_default();
    let words: Vec<&str> = replay.split_whitespace().collect();
    assert_eq!(
        words[..3],
        ["replay:", "hijack-harness", "trace"],
        "{replay}"
    );
    let out = Command::cargo_bin("hijack-harness")
        .expect("the binary is built")
        .args(&words[2..])
        .output()
        .expect("runs");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{replay}\n{text}");
    assert_eq!(
        fail_lines(&text),
        report_verdict(&message),
        "{replay}\n{text}"
    );
}
