//! `hijack-harness serve`: the reference server on a listener (TCP, a Unix
//! socket, TLS over either) until Ctrl-C, the Docker Engine API stub on its own
//! (`serve --protocol docker-engine`), the reference proxy and its mutants
//! (`serve --proxy`), and the TLS it was asked for.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};

use hijack_harness::runner::docker;
use hijack_harness::runner::serve::proxy;
use hijack_harness::runner::{Options, serve};
use hijack_harness::subject::proxy::mutants::ProxyFlaw;
use hijack_harness::suite::Proto;
use hijack_harness::wire::transport::{Address, Endpoint, Listener, ServerTls};

use super::common::runtime;
use super::{ServeArgs, ServeProtocol};

/// Serves until Ctrl-C (or until killed, where there is no signal handler).
pub(super) fn serve_forever(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let endpoint = Endpoint::parse(&args.listen).context("--listen")?;
    if args.proxy {
        return serve_proxy(args, &endpoint);
    }
    if args.upstream.is_some() || args.mutant.is_some() || args.only_token.is_some() {
        bail!("--upstream, --mutant and --only-token need --proxy");
    }
    let protocol = match args.protocol {
        ServeProtocol::Echo => Proto::Echo,
        ServeProtocol::Websocket => Proto::WebSocket,
        ServeProtocol::Docker => Proto::Docker,
        ServeProtocol::Raw => Proto::Connect,
        ServeProtocol::DockerEngine => return serve_docker_engine(args, &endpoint),
    };
    let options = serve::ServeOptions {
        protocol,
        max_connections: args.max_connections.max(1),
        head_timeout: Duration::from_millis(args.head_timeout.max(1)),
        linger: Duration::from_millis(args.linger),
    };
    let (tls, made_ca) = serve_tls(args, &endpoint)?;
    runtime()?.block_on(async move {
        let listener = Listener::bind(&endpoint, tls).await?;
        let address = listener.address().clone();
        let security = match listener.tls().and_then(|t| t.ca_file()) {
            Some(ca) => format!(
                " over TLS (a throw-away certificate; trust its CA with --cacert {})",
                ca.display()
            ),
            None if listener.tls().is_some() => " over TLS".to_string(),
            None => String::new(),
        };
        if !address.is_local() {
            eprintln!("hijack-harness: {address} is reachable from other machines");
        }
        eprintln!(
            "hijack-harness: serving {} on {address}{security} (Ctrl-C to stop)",
            protocol.as_str()
        );
        let stop = async {
            // No signal handler means no Ctrl-C: serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        serve::serve_until(listener, options, stop).await?;
        if let Some(ca) = made_ca {
            let _ = std::fs::remove_file(ca);
        }
        eprintln!("hijack-harness: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// `serve --proxy`: the reference proxy (or `--mutant`'s) in front of
/// `--upstream`, until Ctrl-C.
fn serve_proxy(args: &ServeArgs, endpoint: &Endpoint) -> anyhow::Result<ExitCode> {
    let Some(upstream) = &args.upstream else {
        bail!("--proxy needs --upstream HOST:PORT: where every request goes");
    };
    let upstream = std::net::ToSocketAddrs::to_socket_addrs(upstream)
        .ok()
        .and_then(|mut a| a.next())
        .with_context(|| format!("--upstream {upstream:?} is not HOST:PORT"))?;
    let flaw = match &args.mutant {
        Some(name) => Some(proxy::flaw_named(name).with_context(|| {
            let names: Vec<&str> = ProxyFlaw::ALL.iter().map(|f| f.name()).collect();
            format!(
                "--mutant {name}: no such proxy mutant (one of {})",
                names.join(", ")
            )
        })?),
        None => None,
    };
    let options = proxy::ProxyOptions {
        upstream,
        flaw,
        only_token: args.only_token.clone(),
        head_timeout: Duration::from_millis(args.head_timeout.max(1)),
    };
    let (tls, made_ca) = serve_tls(args, endpoint)?;
    runtime()?.block_on(async move {
        let listener = Listener::bind(endpoint, tls).await?;
        let what = match flaw {
            Some(flaw) => format!("the proxy mutant {flaw:?}"),
            None => "the reference proxy".to_string(),
        };
        eprintln!(
            "hijack-harness: serving {what} on {} in front of {upstream} (Ctrl-C to stop)",
            listener.address()
        );
        let stop = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        proxy::serve_proxy(listener, options, stop).await?;
        if let Some(ca) = made_ca {
            let _ = std::fs::remove_file(ca);
        }
        eprintln!("hijack-harness: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// `serve --protocol docker-engine`: the stub daemon of the Docker client cases,
/// playing `--case`'s container on every attach, until Ctrl-C.
fn serve_docker_engine(args: &ServeArgs, endpoint: &Endpoint) -> anyhow::Result<ExitCode> {
    let Some(case) = hijack_harness::suite::docker::all()
        .into_iter()
        .find(|c| c.id == args.case)
    else {
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

/// The TLS configuration `serve` asked for, and the CA file it made (removed
/// when it stops) if it made one in the temporary directory.
fn serve_tls(
    args: &ServeArgs,
    endpoint: &Endpoint,
) -> anyhow::Result<(Option<ServerTls>, Option<std::path::PathBuf>)> {
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        return Ok((Some(ServerTls::from_pem_files(cert, key)?), None));
    }
    if !args.tls {
        return Ok((None, None));
    }
    let (path, made) = match &args.ca_out {
        Some(path) => (path.clone(), None),
        None => {
            let path =
                std::env::temp_dir().join(format!("hijack-harness-{}-ca.pem", std::process::id()));
            (path.clone(), Some(path))
        }
    };
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).into();
    // The listening host too, unless it is already there or is 0.0.0.0 / ::.
    if let Some(host) = endpoint.host()
        && !names.iter().any(|n| n == host)
        && !host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_unspecified())
    {
        names.push(host.to_string());
    }
    Ok((Some(ServerTls::self_signed(&names, &path)?), made))
}
