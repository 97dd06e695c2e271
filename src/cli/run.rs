//! What each subcommand does.

use std::io::IsTerminal as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use indicatif::{ProgressBar, ProgressStyle};

use hijack_harness::properties::{self, Config};
use hijack_harness::report::{self, CaseResult, RunReport};
use hijack_harness::runner::black_box;
use hijack_harness::runner::embedded::{self, SharedClient, SharedServer};
use hijack_harness::runner::{self, Options, Progress, serve};
use hijack_harness::subject::hyper::{HyperClient, HyperServer, ServerMode};
use hijack_harness::subject::mutants::Mutant;
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};
use hijack_harness::suite::{self, Case, Proto};

use super::{Cli, Command, Protocol, RunArgs, Via};

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
        Command::Serve(args) => super::serve::serve_forever(&args),
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

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// Resolves HOST:PORT to one TCP address (the first the resolver gives).
fn tcp_address(what: &str, text: &str) -> anyhow::Result<SocketAddr> {
    text.to_socket_addrs()
        .with_context(|| format!("{what} {text:?} is not HOST:PORT"))?
        .next()
        .with_context(|| format!("{what} {text:?} resolves to no address"))
}

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

fn select(include: &[String], exclude: &[String]) -> anyhow::Result<Vec<Case>> {
    let include = globs(include)?;
    let exclude = globs(exclude)?;
    let cases: Vec<Case> = suite::all()
        .into_iter()
        .filter(|c| include.as_ref().is_none_or(|g| g.is_match(c.id)))
        .filter(|c| exclude.as_ref().is_none_or(|g| !g.is_match(c.id)))
        .collect();
    if cases.is_empty() {
        bail!("no case matches the --cases/--exclude patterns (see `hijack-harness list`)");
    }
    Ok(cases)
}

/// `list`: the suite's cases, then the Docker client cases (`docker.*`, run
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

/// Progress: a bar on a terminal, plain lines otherwise.
pub(super) struct Reporter {
    bar: Option<ProgressBar>,
}

impl Reporter {
    fn new() -> Self {
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

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
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
        select(&args.cases, &args.exclude)?
    };
    let started = Instant::now();
    let timeout = Duration::from_millis(args.timeout.max(1));
    let reporter = Reporter::new();
    let rt = runtime()?;
    let mut report = RunReport::default();
    // The embedded run's known findings (runner::embedded::known), when it runs.
    let mut known = None;
    if let Some(server) = &args.server {
        let protocol = match args.protocol {
            Protocol::Echo => Proto::Echo,
            Protocol::Websocket => Proto::WebSocket,
            Protocol::Docker => Proto::Docker,
        };
        let target = super::target::resolve("--server", server, protocol, &args, &rt, timeout)?;
        let opts = black_box_options(&args, timeout);
        report.transport = Some(target.transport());
        let targets = match &args.container {
            Some(container) => engine_targets(&target, container, protocol, &rt, timeout)?,
            None => vec![target],
        };
        for target in &targets {
            let results = rt.block_on(async {
                let progress = reporter.phase(cases.len(), "cases", true);
                black_box::run_server(target, &cases, &opts, progress).await
            });
            report.results.extend(results);
        }
    } else if let Some(proxy) = &args.proxy {
        let upstream = match &args.upstream {
            Some(u) => tcp_address("--upstream", u)?,
            None => SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let opts = black_box_options(&args, timeout);
        let (protocol, upstream_proto) = match args.via {
            Via::Connect => (Proto::Connect, Proto::Connect),
            Via::Upgrade => (Proto::Echo, Proto::Echo),
        };
        let mut target = super::target::resolve("--proxy", proxy, protocol, &args, &rt, timeout)?;
        let listener = std::net::TcpListener::bind(upstream)
            .with_context(|| format!("cannot start the upstream echo server on {upstream}"))?;
        let upstream = listener.local_addr()?;
        eprintln!("hijack-harness: upstream echo server on {upstream}");
        let upstream_server = Upstream::start(listener, upstream_proto)?;
        target.connect_to = Some(upstream);
        target.proxy = true;
        if args.name.is_none() {
            target.name = format!("proxy {}", target.endpoint);
        }
        report.transport = Some(target.transport());
        report.results = rt.block_on(async {
            let progress = reporter.phase(cases.len(), "cases", true);
            black_box::run_server(&target, &cases, &opts, progress).await
        });
        upstream_server.stop();
    } else if let Some(command) = &args.client_cmd {
        report.results = super::client::client_run(&args, command, cases, timeout, &reporter, &rt)?;
    } else {
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
                    embedded::run_subjects(&servers, &clients, &cases, &opts, progress.clone())
                        .await,
                );
            }
            report.results = report::merge_rounds(rounds);
            if mutants && !args.no_mutants {
                let progress = reporter.phase(
                    Mutant::all().len() * cases.len(),
                    "mutant self-check",
                    false,
                );
                report.mutants = embedded::check_mutants(&cases, &opts, progress).await;
            }
        });
        let results = &mut report.results;
        known = Some(embedded::known::judge(
            results,
            &cases,
            &servers,
            &clients,
            args.strict,
        ));
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

/// The harness's own upstream behind a proxy under test, on a thread and a
/// runtime of its own: a real upstream answers while the client is busy, and
/// one sharing the client's single-threaded runtime could not (it would run
/// only when the scripted client waits, which changes what the proxy sees).
struct Upstream {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Upstream {
    fn start(listener: std::net::TcpListener, protocol: Proto) -> anyhow::Result<Upstream> {
        listener.set_nonblocking(true)?;
        let rt = runtime()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                tokio::select! {
                    _ = serve::serve(listener, protocol) => {}
                    _ = stopped => {}
                }
            });
        });
        Ok(Upstream { stop, thread })
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// The targets of `--container NAME`: the container's attach (raw or
/// multiplexed, as its `Config.Tty` says) and a fresh exec per case, named
/// `NAME/attach` and `NAME/exec`. A container the daemon does not know, or
/// one that does not run, stops the run (exit 2) with the daemon's words.
fn engine_targets(
    target: &black_box::ServerTarget,
    container: &str,
    protocol: Proto,
    rt: &tokio::runtime::Runtime,
    timeout: Duration,
) -> anyhow::Result<Vec<black_box::ServerTarget>> {
    if protocol != Proto::Docker {
        bail!("--container needs --protocol docker");
    }
    let (tty, running) = rt
        .block_on(black_box::docker::inspect(target, container, timeout))
        .map_err(|e| anyhow::anyhow!("--container {container}: {e}"))?;
    if !running {
        bail!(
            "--container {container}: the container is not running (start it, with stdin open: `docker run -d -i`)"
        );
    }
    let endpoints = [
        black_box::docker::EngineEndpoint::Attach { tty },
        black_box::docker::EngineEndpoint::Exec,
    ];
    Ok(endpoints
        .into_iter()
        .map(|endpoint| {
            let engine = black_box::docker::Engine {
                container: container.to_string(),
                endpoint,
            };
            let mut t = target.clone();
            t.path = Some(engine.attach_path());
            t.name = format!("{container}/{}", engine.endpoint_name());
            t.engine = Some(engine);
            t
        })
        .collect())
}

pub(super) fn black_box_options(args: &RunArgs, timeout: Duration) -> Options {
    Options {
        timeout,
        quiet: Duration::from_millis(args.quiet.unwrap_or(300)),
        concurrency: 1,
        repeat: args.repeat.max(1) as usize,
        ..Options::default()
    }
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
