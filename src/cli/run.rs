//! The dispatch: each subcommand, and for `run` each kind of target (a server
//! or a proxy: [`super::server`]; a client command: [`super::client`]; the
//! embedded subjects: [`super::embedded`]), to what does it; the small
//! commands (`list`, `trace`, `self-check`) and the run's reports here.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use hijack_harness::properties::{self, Config};
use hijack_harness::report;
use hijack_harness::results::RunReport;
use hijack_harness::subject::mutants::Mutant;
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};
use hijack_harness::suite::{self, Case};

use super::common::{Reporter, globs, runtime};
use super::{Cli, Command, Protocol, RunArgs, client, embedded, serve, server};

/// Exit code 2: the run could not be made.
const CANNOT_RUN: u8 = 2;

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let result = match cli.command {
        Command::Run(args) => run(*args),
        Command::List { cases } => list(&cases),
        Command::Serve(args) => serve::serve_forever(&args),
        Command::SelfCheck { count } => Ok(self_check(count)),
        Command::Trace {
            case,
            scenario,
            subject,
            side,
            pcap,
        } => trace(
            case.as_deref(),
            scenario.as_deref(),
            &subject,
            side.as_deref(),
            pcap.as_deref(),
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hijack-harness: {e:#}");
            ExitCode::from(CANNOT_RUN)
        }
    }
}

/// `trace`: the text trace on stdout; exit 0 if every run passed, 1 if one failed.
/// Exactly one of `case` and `scenario` is given (clap's group says so).
fn trace(
    case: Option<&str>,
    scenario: Option<&str>,
    subject: &str,
    side: Option<&str>,
    pcap: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    use hijack_harness::inspect::{Traced, trace_command};
    let traced = match (case, scenario) {
        (_, Some(hex)) => Traced::Scenario(hex),
        (Some(case), None) => Traced::Case(case),
        (None, None) => anyhow::bail!("trace: give a case ID or --scenario HEX"),
    };
    let output = trace_command(traced, subject, side, pcap)?;
    print!("{}", output.text);
    Ok(ExitCode::from(u8::from(!output.passed)))
}

/// The cases of `all` whose IDs `--cases` selects and `--exclude` does not.
fn select<S>(
    all: Vec<Case<S>>,
    include: &[String],
    exclude: &[String],
) -> anyhow::Result<Vec<Case<S>>> {
    let include = globs(include)?;
    let exclude = globs(exclude)?;
    Ok(all
        .into_iter()
        .filter(|c| include.as_ref().is_none_or(|g| g.is_match(c.id)))
        .filter(|c| exclude.as_ref().is_none_or(|g| !g.is_match(c.id)))
        .collect())
}

const NO_CASE: &str = "no case matches the --cases/--exclude patterns (see `hijack-harness list`)";

/// `list`: the suite's cases, the proxy cases (`tunnel.*`, run with
/// `--proxy`), then the Docker client cases (`docker.*`, run
/// with `--client-cmd ... --protocol docker`), which are not scenarios and
/// live in `hijack_harness::suite::docker`.
fn list(patterns: &[String]) -> anyhow::Result<ExitCode> {
    let include = globs(patterns)?;
    let selected = |id: &str| include.as_ref().is_none_or(|g| g.is_match(id));
    let mut rows: Vec<[String; 5]> = Vec::new();
    for c in suite::all().into_iter().filter(|c| selected(c.id)) {
        let sides = match (c.sides.server, c.sides.client) {
            (true, true) => "both",
            (true, false) => "server",
            _ => "client",
        };
        let protocols: Vec<&str> = c.protocols.iter().map(|p| p.as_str()).collect();
        rows.push([
            c.id.into(),
            c.level.as_str().into(),
            sides.into(),
            protocols.join(","),
            c.title.into(),
        ]);
    }
    for c in suite::tunnel::all().into_iter().filter(|c| selected(c.id)) {
        let protocols: Vec<&str> = c.protocols.iter().map(|p| p.as_str()).collect();
        rows.push([
            c.id.into(),
            c.level.as_str().into(),
            "proxy".into(),
            format!("{} (--proxy)", protocols.join(",")),
            c.title.into(),
        ]);
    }
    for c in hijack_harness::suite::docker::all()
        .into_iter()
        .filter(|c| selected(c.id))
    {
        rows.push([
            c.id.into(),
            c.level.as_str().into(),
            "client".into(),
            "docker (--client-cmd)".into(),
            c.title.into(),
        ]);
    }
    if rows.is_empty() {
        bail!("no case matches the --cases patterns");
    }
    let width = rows.iter().map(|r| r[0].len()).max().unwrap_or(4);
    println!(
        "{:<width$}  {:<6}  {:<6}  {:<30}  title",
        "id", "level", "sides", "protocols"
    );
    for [id, level, sides, protocols, title] in rows {
        println!("{id:<width$}  {level:<6}  {sides:<6}  {protocols:<30}  {title}");
    }
    Ok(ExitCode::SUCCESS)
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let black_box = args.server.is_some() || args.proxy.is_some() || args.client_cmd.is_some();
    if (args.tls || args.ca.is_some() || args.insecure || args.sni.is_some()) && !black_box {
        bail!("--tls, --ca, --insecure and --sni need --server, --proxy or --client-cmd");
    }
    // A Docker client run picks its own cases (`docker.*`), the rest the suite's.
    let cases = if args.client_cmd.is_some() && args.protocol == Protocol::Docker {
        Vec::new()
    } else {
        select(suite::all(), &args.cases, &args.exclude)?
    };
    // Through a proxy, the `tunnel.*` cases too.
    let tunnel = match &args.proxy {
        Some(_) => select(suite::tunnel::all(), &args.cases, &args.exclude)?,
        None => Vec::new(),
    };
    let docker_client = args.client_cmd.is_some() && args.protocol == Protocol::Docker;
    if cases.is_empty() && tunnel.is_empty() && !docker_client {
        bail!(NO_CASE);
    }
    let started = Instant::now();
    let timeout = Duration::from_millis(args.timeout.max(1));
    let reporter = Reporter::new();
    let rt = runtime()?;
    let mut report = RunReport::default();
    // The embedded run's known findings (runner::embedded::known), when it runs.
    let mut known = None;
    if let Some(server) = &args.server {
        server::server_run(&args, server, &cases, timeout, &reporter, &rt, &mut report)?;
    } else if let Some(proxy) = &args.proxy {
        let selected = (&cases[..], &tunnel[..]);
        server::proxy_run(&args, proxy, selected, timeout, &reporter, &rt, &mut report)?;
    } else if let Some(command) = &args.client_cmd {
        report.results = client::client_run(&args, command, cases, timeout, &reporter, &rt)?;
    } else {
        known = Some(embedded::embedded_run(
            &args,
            &cases,
            timeout,
            &reporter,
            &rt,
            &mut report,
        )?);
    }
    reporter.finish();
    report.duration = started.elapsed();
    print!("{}", hijack_harness::report::text::render(&report));
    write_reports(&args, &report)?;

    if let Some(expect) = &args.expect {
        let comparison = report::expect::compare(&report, expect)
            .with_context(|| format!("cannot compare with {}", expect.display()))?;
        if comparison.changed.is_empty() {
            println!("no change from {}", expect.display());
            return Ok(ExitCode::SUCCESS);
        }
        println!("changed from {}:", expect.display());
        for line in &comparison.changed {
            println!("  {line}");
        }
        return Ok(ExitCode::from(1));
    }
    if let Some(known) = &known {
        print!("{}", known.render());
    }
    let failed = match &known {
        Some(known) => !known.matches(),
        None => report
            .results
            .iter()
            .any(|r| r.outcome.fails_run(args.strict)),
    } || report.mutants.iter().any(|m| !m.caught);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_reports(args: &RunArgs, report: &RunReport) -> anyhow::Result<()> {
    if let Some(path) = &args.json {
        report::json::write(report, path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        report::junit::write(report, path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.html {
        report::html::write(report, path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(dir) = &args.traces {
        report::traces::write_dir(report, dir)
            .with_context(|| format!("cannot write traces into {}", dir.display()))?;
    }
    Ok(())
}

/// The property-based self-check over the in-memory wire.
fn self_check(count: Option<u32>) -> ExitCode {
    let mut config = Config::seeded(1);
    if let Some(count) = count {
        config.cases = count;
    }
    let mut ok = true;
    for (name, result) in [
        (
            "reference server",
            properties::check_server(&ReferenceServer::default(), &config),
        ),
        (
            "reference client",
            properties::check_client(&ReferenceClient::default(), &config),
        ),
    ] {
        match result {
            Ok(stats) => println!(
                "pass   {name:<40} {} cases, {:.0} cases/s",
                stats.cases,
                stats.per_second()
            ),
            Err(counterexample) => {
                ok = false;
                println!("FAIL   {name}\n{counterexample}");
            }
        }
    }
    for mutant in Mutant::all() {
        let result = match (mutant.server(), mutant.client()) {
            (Some(server), _) => properties::check_server(&server, &config),
            (_, Some(client)) => properties::check_client(&client, &config),
            _ => continue,
        };
        match result {
            Err(counterexample) if counterexample.run.verdict.breaks(mutant.breaks()) => {
                let first = &counterexample.run.verdict.violations[0];
                println!(
                    "caught {:<40} {}: {}",
                    mutant.name(),
                    first.point,
                    first.message
                );
            }
            Err(counterexample) => {
                ok = false;
                println!(
                    "WRONG  {:<40} expected {}, got:\n{}",
                    mutant.name(),
                    mutant.breaks(),
                    counterexample.run.verdict
                );
            }
            Ok(_) => {
                ok = false;
                println!(
                    "MISSED {:<40} survived {} cases",
                    mutant.name(),
                    config.cases
                );
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
