//! Wire-trace snapshots: what every conformance case looks like on the wire for
//! the reference, and how every mutant's failure looks, pinned in `snapshots/`.
//!
//! A snapshot is the text of [`trace_text::render_run`]: every segment, FIN and hijack,
//! and for a failing run the oracle's diagnosis with carets under the bytes that
//! went wrong. Runs over the in-memory wire are a pure function of their scenario,
//! so the snapshots hold no times, ports or addresses and never flake. A change
//! to any byte the reference puts on the wire (a reason phrase, a header order, a
//! segment boundary) fails here, and the diff shows which line moved.
//!
//! * Reference: one snapshot per case and side (`reference-server__<case>`).
//! * hyper (its server read through `Upgraded`, and its client), with hyper's
//!   defaults except `auto_date_header(false)` (no clock in the trace): one per case
//!   and side (`hyper-server__<case>`), including the cases it fails or cannot run,
//!   so a hyper upgrade that changes its wire behaviour shows up as a diff.
//! * Mutants: one per mutant, against the first case in suite order that catches
//!   it with the point its bug breaks (`mutant-<name>__<case>`).
//!
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test
//! --test snapshots` and read the git diff). [`every_snapshot_file_is_referenced`]
//! fails on a `.snap` file no assertion here produces: a renamed case or a removed
//! mutant must take its snapshot with it, or the folder fills with traces nobody checks.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use hijack_harness::check::{Run, run_client, run_server};
use hijack_harness::inspect::SubjectName;
use hijack_harness::report::trace_text;
use hijack_harness::subject::hyper::ServerMode;
use hijack_harness::subject::mutants::Mutant;
use hijack_harness::suite::{self, Case};
use hijack_harness::wire::Side;

/// Where the snapshots live, relative to this file (insta's convention).
const SNAPSHOT_DIR: &str = "../snapshots";

/// Runs `assert` for each named item with the snapshot settings, and fails once at
/// the end with every mismatch, so one changed byte in a shared head shows all the
/// traces it touches instead of the first.
fn assert_all(items: Vec<(String, String)>) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(SNAPSHOT_DIR);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let mut failed = Vec::new();
    settings.bind(|| {
        for (name, rendered) in items {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                insta::assert_snapshot!(name.clone(), rendered);
            }));
            if outcome.is_err() {
                failed.push(name);
            }
        }
    });
    assert!(
        failed.is_empty(),
        "{} snapshot(s) differ: {failed:?}",
        failed.len()
    );
}

fn snapshot_name(who: &str, case: &Case) -> String {
    format!("{who}__{}", case.id)
}

/// Runs `case` on `side` against `subject` (which has that side).
fn subject_run(subject: SubjectName, case: &Case, side: Side) -> Run {
    match side {
        Side::Server => run_server(
            subject.server().expect("a server side").as_ref(),
            &case.scenario,
        ),
        Side::Client => run_client(
            subject.client().expect("a client side").as_ref(),
            &case.scenario,
        ),
    }
}

fn sides(case: &Case) -> Vec<Side> {
    let mut out = Vec::new();
    if case.sides.server {
        out.push(Side::Server);
    }
    if case.sides.client {
        out.push(Side::Client);
    }
    out
}

/// The snapshots of `subject` under `label`: (name, case, side), every side the
/// case tests and the subject has.
fn subject_plan(label: &str, subject: SubjectName) -> Vec<(String, Case, Side)> {
    let has = |side: Side| match side {
        Side::Server => subject.server().is_some(),
        Side::Client => subject.client().is_some(),
    };
    suite::all()
        .into_iter()
        .flat_map(|case| {
            sides(&case)
                .into_iter()
                .filter(|&side| has(side))
                .map(|side| {
                    (
                        snapshot_name(&format!("{label}-{side}"), &case),
                        case.clone(),
                        side,
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn reference_plan() -> Vec<(String, Case, Side)> {
    subject_plan("reference", SubjectName::Reference)
}

fn hyper_plan() -> Vec<(String, Case, Side)> {
    subject_plan("hyper", SubjectName::Hyper(ServerMode::Direct))
}

fn mutant_run(mutant: Mutant, case: &Case) -> Option<Run> {
    match (mutant.server(), mutant.client()) {
        (Some(server), _) if case.sides.server => Some(run_server(&server, &case.scenario)),
        (_, Some(client)) if case.sides.client => Some(run_client(&client, &case.scenario)),
        _ => None,
    }
}

/// Each mutant with the first case that catches it for the right reason, and its run.
fn mutant_plan() -> Vec<(String, Run)> {
    let cases = suite::all();
    Mutant::all()
        .into_iter()
        .map(|mutant| {
            let caught = cases.iter().find_map(|case| {
                mutant_run(mutant, case)
                    .filter(|run| run.verdict.breaks(mutant.breaks()))
                    .map(|run| (case, run))
            });
            let Some((case, run)) = caught else {
                panic!(
                    "no case catches mutant {} with {}",
                    mutant.name(),
                    mutant.breaks()
                );
            };
            (
                snapshot_name(&format!("mutant-{}", mutant.name()), case),
                run,
            )
        })
        .collect()
}

fn subject_items(subject: SubjectName, plan: Vec<(String, Case, Side)>) -> Vec<(String, String)> {
    plan.into_iter()
        .map(|(name, case, side)| {
            let run = subject_run(subject, &case, side);
            (name, trace_text::render_run(&run))
        })
        .collect()
}

#[test]
fn reference_traces() {
    let items = subject_items(SubjectName::Reference, reference_plan());
    // The reference conforms everywhere; a snapshot that says otherwise is a bug to
    // fix, not a trace to accept (checked after the snapshots, so that their diffs
    // are printed first).
    let failing: Vec<String> = items
        .iter()
        .filter(|(_, rendered)| {
            !rendered
                .lines()
                .next()
                .is_some_and(|l| l.ends_with(": pass"))
        })
        .map(|(name, _)| name.clone())
        .collect();
    assert_all(items);
    assert!(failing.is_empty(), "the reference fails: {failing:?}");
}

#[test]
fn hyper_traces() {
    assert_all(subject_items(
        SubjectName::Hyper(ServerMode::Direct),
        hyper_plan(),
    ));
}

#[test]
fn mutant_traces() {
    let items = mutant_plan()
        .into_iter()
        .map(|(name, run)| {
            let rendered = trace_text::render_run(&run);
            // A failing trace must say what failed, and where when it is about bytes.
            assert!(rendered.contains("\nFAIL "), "{name}:\n{rendered}");
            (name, rendered)
        })
        .collect();
    assert_all(items);
}

/// Every `.snap` file in `snapshots/` is one that a test above asserts.
///
/// insta only notices snapshots it is asked about; a file nobody asserts any more
/// (a case renamed, a mutant removed) would stay forever and look like coverage.
/// This check needs nothing but `cargo test` (unlike `cargo insta test
/// --unreferenced=reject`, which needs cargo-insta installed), and it derives the
/// expected names from the same plans the assertions use, so the two cannot drift.
#[test]
fn every_snapshot_file_is_referenced() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let expected: BTreeSet<String> = reference_plan()
        .into_iter()
        .chain(hyper_plan())
        .map(|(name, ..)| name)
        .chain(mutant_plan().into_iter().map(|(name, _)| name))
        .map(|name| format!("{name}.snap"))
        .collect();
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".snap"))
        .collect();
    let unreferenced: Vec<&String> = present.difference(&expected).collect();
    assert!(
        unreferenced.is_empty(),
        "snapshot files no test asserts (delete them, or restore their test): {unreferenced:?}"
    );
}

/// The example in the README and in `src/wire/text.rs` is a real snapshot, not a
/// drawing that drifts from the format.
#[test]
fn documented_example_is_a_snapshot() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let snap = std::fs::read_to_string(
        root.join("snapshots/mutant-ignores-read-ahead__handoff.early-data.same-segment.1.snap"),
    )
    .expect("the documented snapshot exists");
    let body: String = snap
        .splitn(3, "---\n")
        .nth(2)
        .expect("a snapshot body")
        .into();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(readme.contains(&body), "README.md shows an outdated trace");
    let docs = std::fs::read_to_string(root.join("src/wire/text.rs")).expect("text.rs");
    let as_doc: String = body.lines().map(|l| format!("//! {l}\n")).collect();
    assert!(
        docs.contains(&as_doc),
        "src/wire/text.rs shows an outdated trace"
    );
}
