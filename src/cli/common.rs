//! What the subcommands share: the async runtime, case patterns, the progress
//! reporter and the black-box runs' options.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use globset::{Glob, GlobSet, GlobSetBuilder};
use indicatif::{ProgressBar, ProgressStyle};

use hijack_harness::results::CaseResult;
use hijack_harness::runner::target::{self, Target};
use hijack_harness::runner::{self, Options, Progress};
use hijack_harness::suite::Case;

use super::RunArgs;

/// A single-threaded runtime for one subcommand.
pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// The glob set of `--cases`/`--exclude` patterns; `None` when there are none.
pub(super) fn globs(patterns: &[String]) -> anyhow::Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        builder.add(Glob::new(p).with_context(|| format!("bad glob {p:?}"))?);
    }
    Ok(Some(builder.build()?))
}

/// Progress: a bar on a terminal, plain lines otherwise.
pub(super) struct Reporter {
    bar: Option<ProgressBar>,
}

impl Reporter {
    pub(super) fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Reporter { bar }
    }

    /// A callback for `runs` more case runs; plain lines only when `lines`.
    pub(super) fn phase(&self, runs: usize, label: &str, lines: bool) -> Progress {
        match &self.bar {
            Some(bar) => {
                bar.inc_length(runs as u64);
                bar.set_message(label.to_string());
                let bar = bar.clone();
                Arc::new(move |r: &CaseResult| {
                    bar.inc(1);
                    bar.set_message(r.case_id.clone());
                })
            }
            None if lines => Arc::new(|r: &CaseResult| {
                eprintln!(
                    "{:<11} {} [{} {}] {} ms",
                    r.outcome.as_str(),
                    r.case_id,
                    r.target,
                    r.side,
                    r.duration.as_millis()
                );
            }),
            None => {
                eprintln!("{label}: {runs} runs");
                runner::no_progress()
            }
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Reporter {
    /// Every case against `target`, one at a time, with a progress bar.
    pub(super) fn one_at_a_time<T: Target>(
        &self,
        rt: &tokio::runtime::Runtime,
        target: &T,
        cases: &[Case<T::Script>],
        opts: &Options,
    ) -> Vec<CaseResult> {
        rt.block_on(async {
            let progress = self.phase(cases.len(), "cases", true);
            target::one_at_a_time(target, cases, opts, progress).await
        })
    }
}

/// The options of a black-box run (server, proxy or client command).
pub(super) fn black_box_options(args: &RunArgs, timeout: Duration) -> Options {
    Options {
        timeout,
        quiet: Duration::from_millis(args.quiet.unwrap_or(300)),
        concurrency: 1,
        repeat: args.repeat.max(1) as usize,
        ..Options::default()
    }
}
