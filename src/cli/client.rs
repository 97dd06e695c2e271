//! Client runs (`run --client-cmd`, the echo contract or, with `--protocol
//! docker`, a Docker client) and the Docker Engine API stub on its own (`serve
//! --protocol docker-engine`): where the harness listens, how the command is
//! told, and which cases run.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};

use hijack_harness::report::CaseResult;
use hijack_harness::runner::Options;
use hijack_harness::runner::black_box::{self, ClientTarget};
use hijack_harness::runner::client_listener::{ClientListener, ListenAt, TlsChoice};
use hijack_harness::runner::docker::{self, DockerClient};
use hijack_harness::suite::Case;
use hijack_harness::suite::attach::Attach;
use hijack_harness::suite::docker as docker_cases;
use hijack_harness::wire::transport::{Address, Endpoint, Listener};

use super::run::{Reporter, black_box_options, globs, runtime};
use super::serve::serve_tls;
use super::{Protocol, RunArgs, ServeArgs};

/// The Docker client cases (`docker.*`) the patterns select.
fn select_docker(include: &[String], exclude: &[String]) -> anyhow::Result<Vec<Case<Attach>>> {
    let include = globs(include)?;
    let exclude = globs(exclude)?;
    let cases: Vec<Case<Attach>> = docker_cases::all()
        .into_iter()
        .filter(|c| include.as_ref().is_none_or(|g| g.is_match(c.id)))
        .filter(|c| exclude.as_ref().is_none_or(|g| !g.is_match(c.id)))
        .collect();
    if cases.is_empty() {
        bail!(
            "no Docker client case matches the --cases/--exclude patterns (they are docker.*: see `hijack-harness list`)"
        );
    }
    Ok(cases)
}

/// A client run: the harness listens (TCP, Unix, TLS) and runs the command once
/// per case, as the echo contract's client or, with `--protocol docker`, as a
/// Docker client judged by what it prints and sends.
pub(super) fn client_run(
    args: &RunArgs,
    command: &str,
    cases: Vec<Case>,
    timeout: Duration,
    reporter: &Reporter,
    rt: &tokio::runtime::Runtime,
) -> anyhow::Result<Vec<CaseResult>> {
    let at = match &args.listen {
        Some(text) => ListenAt::parse(text).context("--listen")?,
        None => ListenAt::default(),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => TlsChoice::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ if args.tls => TlsChoice::SelfSigned,
        _ => TlsChoice::Plain,
    };
    let listen = ClientListener::new(at, tls)?;
    listen
        .check(command)
        .map_err(|e| anyhow::anyhow!("--client-cmd: {e}"))?;
    let security = match listen.ca_file() {
        Some(ca) => format!(" over TLS ({{ca}} is {})", ca.display()),
        None if listen.is_tls() => " over TLS".into(),
        None => String::new(),
    };
    eprintln!(
        "hijack-harness: listening on {}{security} for each case",
        listen.at()
    );
    let name = args.name.clone().unwrap_or_else(|| "client-cmd".into());
    let opts = black_box_options(args, timeout);
    match args.protocol {
        Protocol::Echo => {
            let target = ClientTarget {
                command: command.to_string(),
                name,
                listen,
            };
            Ok(rt.block_on(async {
                let progress = reporter.phase(cases.len(), "cases", true);
                black_box::run_client(&target, &cases, &opts, progress).await
            }))
        }
        Protocol::Docker => {
            let cases = select_docker(&args.cases, &args.exclude)?;
            let target = DockerClient {
                command: command.to_string(),
                name,
                listen,
            };
            Ok(rt.block_on(async {
                let progress = reporter.phase(cases.len(), "cases", true);
                docker::run_client(&target, &cases, &opts, progress).await
            }))
        }
        Protocol::Websocket => bail!(
            "--protocol websocket with --client-cmd: client runs speak the echo contract \
             (--protocol echo) or Docker's Engine API (--protocol docker); WebSocket clients \
             are not supported"
        ),
    }
}

/// `serve --protocol docker-engine`: the stub daemon of the Docker client cases,
/// playing `--case`'s container on every attach, until Ctrl-C.
pub(super) fn serve_docker_engine(
    args: &ServeArgs,
    endpoint: &Endpoint,
) -> anyhow::Result<ExitCode> {
    let Some(case) = docker_cases::all().into_iter().find(|c| c.id == args.case) else {
        bail!(
            "--case {}: no such Docker client case (the docker.* lines of `hijack-harness list`)",
            args.case
        );
    };
    let (tls, made_ca) = serve_tls(args, endpoint)?;
    runtime()?.block_on(async move {
        let listener = Listener::bind(endpoint, tls).await?;
        let address = listener.address().clone();
        let security = match listener.tls().and_then(|t| t.ca_file()) {
            Some(ca) => format!(" over TLS (trust its CA with --tlscacert {})", ca.display()),
            None if listener.tls().is_some() => " over TLS".to_string(),
            None => String::new(),
        };
        let host = match &address {
            Address::Tcp(addr) => format!("tcp://{addr}"),
            Address::Unix(path) => format!("unix://{}", path.display()),
        };
        eprintln!(
            "hijack-harness: serving the Docker Engine API stub on {address}{security}, \
             container of {} (docker -H {host} attach c1); Ctrl-C to stop",
            case.id
        );
        let stop = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let pause = Options::default().pause;
        tokio::select! {
            served = docker::serve(&listener, case, pause) => served?,
            () = stop => {}
        }
        if let Some(ca) = made_ca {
            let _ = std::fs::remove_file(ca);
        }
        eprintln!("hijack-harness: stopped");
        Ok(ExitCode::SUCCESS)
    })
}
