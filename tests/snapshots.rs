//! Wire-trace snapshots: what every conformance case looks like on the wire for
//! the reference, and how every mutant's failure looks, pinned in `snapshots/`.
//!
//! A snapshot is the text of [`text::render_run`]: every segment, FIN and hijack,
//! and for a failing run the oracle's diagnosis with carets under the bytes that
//! went wrong. Runs over the in-memory wire are a pure function of their scenario,
//! so the snapshots hold no times, ports or addresses and never flake. A change
//! to any byte the reference puts on the wire (a reason phrase, a header order, a
//! segment boundary) fails here, and the diff shows which line moved.
//!
//! * Reference: one snapshot per case and side (`reference-server__<case>`).
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
use hijack_harness::subject::mutants::Mutant;
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};
use hijack_harness::suite::{self, Case};
use hijack_harness::wire::{Side, text};

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

fn reference_run(case: &Case, side: Side) -> Run {
    match side {
        Side::Server => run_server(&ReferenceServer::default(), &case.scenario),
        Side::Client => run_client(&ReferenceClient::default(), &case.scenario),
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

/// The reference's snapshots: (name, case, side).
fn reference_plan() -> Vec<(String, Case, Side)> {
    suite::all()
        .into_iter()
        .flat_map(|case| {
            sides(&case).into_iter().map(move |side| {
                (
                    snapshot_name(&format!("reference-{side}"), &case),
                    case.clone(),
                    side,
                )
            })
        })
        .collect()
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

#[test]
fn reference_traces() {
    let items = reference_plan()
        .into_iter()
        .map(|(name, case, side)| {
            let run = reference_run(&case, side);
            (name, text::render_run(&run))
        })
        .collect();
    assert_all(items);
}

#[test]
fn mutant_traces() {
    let items = mutant_plan()
        .into_iter()
        .map(|(name, run)| {
            let rendered = text::render_run(&run);
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
