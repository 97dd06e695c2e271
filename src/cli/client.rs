//! Client runs (`run --client-cmd`, the echo contract or, with `--protocol
//! docker`, a Docker client): where the harness listens, how the command is
//! told, and which cases run.

use std::time::Duration;

use anyhow::{Context as _, bail};

use hijack_harness::results::CaseResult;
use hijack_harness::runner::black_box::ClientTarget;
use hijack_harness::runner::client_listener::{ClientListener, ListenAt, TlsChoice};
use hijack_harness::runner::docker::DockerClient;
use hijack_harness::suite::Case;
use hijack_harness::suite::attach::Attach;
use hijack_harness::suite::docker as docker_cases;

use super::common::{Reporter, black_box_options, globs};
use super::{Protocol, RunArgs};

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
            Ok(reporter.one_at_a_time(rt, &target, &cases, &opts))
        }
        Protocol::Docker => {
            let cases = select_docker(&args.cases, &args.exclude)?;
            let target = DockerClient {
                command: command.to_string(),
                name,
                listen,
            };
            Ok(reporter.one_at_a_time(rt, &target, &cases, &opts))
        }
        Protocol::Websocket => bail!(
            "--protocol websocket with --client-cmd: client runs speak the echo contract \
             (--protocol echo) or Docker's Engine API (--protocol docker); WebSocket clients \
             are not supported"
        ),
    }
}
