//! The embedded run (`run` without a target): every case against the reference
//! and hyper over loopback TCP, the mutant self-check, and the comparison with
//! the known findings.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use hijack_harness::results::RunReport;
use hijack_harness::runner::Options;
use hijack_harness::runner::embedded::{self, SharedClient, SharedServer, known::Judgement};
use hijack_harness::subject::hyper::{HyperClient, HyperServer, ServerMode};
use hijack_harness::subject::mutants::Mutant;
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};
use hijack_harness::suite::Case;

use super::RunArgs;
use super::common::Reporter;

/// Runs the cases against the embedded subjects (and the mutants, unless told
/// not to), and judges the results against the known findings.
pub(super) fn embedded_run(
    args: &RunArgs,
    cases: &[Case],
    timeout: Duration,
    reporter: &Reporter,
    rt: &tokio::runtime::Runtime,
    report: &mut RunReport,
) -> anyhow::Result<Judgement> {
    let opts = Options {
        timeout,
        quiet: Duration::from_millis(
            args.quiet
                .unwrap_or(embedded::EMBEDDED_QUIET.as_millis() as u64),
        ),
        repeat: args.repeat.max(1) as usize,
        ..Options::default()
    };
    let (servers, clients, mutants) = embedded_subjects(args.subject.as_deref())?;
    let runs: usize = cases
        .iter()
        .map(|c| {
            usize::from(c.sides.server) * servers.len()
                + usize::from(c.sides.client) * clients.len()
        })
        .sum();
    rt.block_on(async {
        let progress = reporter.phase(runs * opts.repeat, "cases", false);
        let mut rounds = Vec::with_capacity(opts.repeat);
        for _ in 0..opts.repeat {
            rounds.push(
                embedded::run_subjects(&servers, &clients, cases, &opts, progress.clone()).await,
            );
        }
        report.results = hijack_harness::results::merge_rounds(rounds);
        if mutants && !args.no_mutants {
            let progress = reporter.phase(
                Mutant::all().len() * cases.len(),
                "mutant self-check",
                false,
            );
            report.mutants = embedded::check_mutants(cases, &opts, progress).await;
        }
    });
    Ok(embedded::known::judge(
        &mut report.results,
        cases,
        &servers,
        &clients,
        args.strict,
    ))
}

/// The subjects of the embedded run, and whether the mutant check runs.
fn embedded_subjects(
    only: Option<&str>,
) -> anyhow::Result<(Vec<SharedServer>, Vec<SharedClient>, bool)> {
    let reference = || -> (Vec<SharedServer>, Vec<SharedClient>) {
        (
            vec![Arc::new(ReferenceServer::default())],
            vec![Arc::new(ReferenceClient::default())],
        )
    };
    // hyper with its default options (`http1::Builder` defaults, `with_upgrades`).
    let hyper = || -> (Vec<SharedServer>, Vec<SharedClient>) {
        (
            vec![Arc::new(HyperServer::new(ServerMode::Direct))],
            vec![Arc::new(HyperClient::default())],
        )
    };
    match only {
        None => {
            let (mut s, mut c) = reference();
            let (hs, hc) = hyper();
            s.extend(hs);
            c.extend(hc);
            Ok((s, c, true))
        }
        Some("reference") => {
            let (s, c) = reference();
            Ok((s, c, false))
        }
        Some("hyper") => {
            let (s, c) = hyper();
            Ok((s, c, false))
        }
        Some(name) => {
            let mutant = name
                .strip_prefix("mutant:")
                .and_then(Mutant::from_name)
                .with_context(|| {
                    format!(
                        "unknown subject {name:?}: use reference, hyper or mutant:NAME with NAME one of {}",
                        Mutant::all()
                            .iter()
                            .map(|m| m.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            let servers: Vec<SharedServer> = mutant
                .server()
                .map(|s| Arc::new(s) as SharedServer)
                .into_iter()
                .collect();
            let clients: Vec<SharedClient> = mutant
                .client()
                .map(|c| Arc::new(c) as SharedClient)
                .into_iter()
                .collect();
            Ok((servers, clients, false))
        }
    }
}
