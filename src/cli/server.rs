//! Black-box runs against a server (`run --server`, with `--container` each of
//! a Docker Engine container's endpoints) and against a proxy (`run --proxy`, in
//! front of the harness's own upstream: the echo suite, then the `tunnel.*`
//! cases).

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context as _, bail};

use hijack_harness::results::RunReport;
use hijack_harness::runner::black_box;
use hijack_harness::runner::black_box::tunnel::{HarnessUpstream, ProxyTarget};
use hijack_harness::scenario::proxy::ProxyScenario;
use hijack_harness::suite::{Case, Proto};

use super::common::{Reporter, black_box_options};
use super::{Protocol, RunArgs, Via};

/// `run --server`: every selected case against the server (or each endpoint of
/// its `--container`).
pub(super) fn server_run(
    args: &RunArgs,
    server: &str,
    cases: &[Case],
    timeout: Duration,
    reporter: &Reporter,
    rt: &tokio::runtime::Runtime,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let protocol = match args.protocol {
        Protocol::Echo => Proto::Echo,
        Protocol::Websocket => Proto::WebSocket,
        Protocol::Docker => Proto::Docker,
    };
    let target = super::target::resolve("--server", server, protocol, args, rt, timeout)?;
    let opts = black_box_options(args, timeout);
    report.transport = Some(target.transport());
    let (targets, shared) = match (&args.container, &args.image) {
        (Some(container), _) => (
            engine_targets(&target, container, protocol, rt, timeout)?,
            None,
        ),
        (None, Some(image)) => {
            if protocol != Proto::Docker {
                bail!("--image needs --protocol docker");
            }
            // The exec cases share one container of the image; each attach
            // case gets a fresh one (black_box's `prepare`).
            let shared = rt
                .block_on(black_box::docker::fresh_container(
                    &target, image, false, timeout,
                ))
                .map_err(|e| anyhow::anyhow!("--image {image}: {e}"))?;
            (image_targets(&target, image, &shared), Some(shared))
        }
        (None, None) => (vec![target.clone()], None),
    };
    for target in &targets {
        let results = rt.block_on(async {
            let progress = reporter.phase(cases.len(), "cases", true);
            black_box::run_server(target, cases, &opts, progress).await
        });
        report.results.extend(results);
    }
    if let Some(shared) = shared {
        rt.block_on(async {
            black_box::docker::remove_container(&target, &shared, timeout).await;
            black_box::docker::sweep(&target, timeout).await;
        });
    }
    Ok(())
}

/// The targets of `--image IMAGE`: fresh containers per attach case, without
/// and with a TTY, and the exec endpoint of the `shared` container.
fn image_targets(
    target: &black_box::ServerTarget,
    image: &str,
    shared: &str,
) -> Vec<black_box::ServerTarget> {
    use black_box::docker::{Engine, EngineEndpoint};
    [
        ("image/attach", EngineEndpoint::Attach { tty: false }),
        ("image-tty/attach", EngineEndpoint::Attach { tty: true }),
        ("image/exec", EngineEndpoint::Exec),
    ]
    .into_iter()
    .map(|(name, endpoint)| {
        let engine = Engine {
            container: shared.to_string(),
            endpoint,
            image: Some(image.to_string()),
        };
        let mut t = target.clone();
        t.path = Some(engine.attach_path());
        t.name = name.to_string();
        t.engine = Some(engine);
        t
    })
    .collect()
}

/// `run --proxy`: every selected case through the proxy, to the harness's
/// upstream: the echo suite (`cases`), then the `tunnel.*` cases (`tunnel`),
/// whose scripted upstream takes the same listener while each runs.
#[allow(clippy::too_many_arguments)]
pub(super) fn proxy_run(
    args: &RunArgs,
    proxy: &str,
    (cases, tunnel): (&[Case], &[Case<ProxyScenario>]),
    timeout: Duration,
    reporter: &Reporter,
    rt: &tokio::runtime::Runtime,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let upstream = match &args.upstream {
        Some(u) => tcp_address("--upstream", u)?,
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let opts = black_box_options(args, timeout);
    let (protocol, upstream_proto) = match args.via {
        Via::Connect => (Proto::Connect, Proto::Connect),
        // The upstream speaks what the client asks for through the proxy: a
        // proxy configured for WebSocket only forwards `Upgrade: websocket`.
        Via::Upgrade => match args.protocol {
            Protocol::Echo => (Proto::Echo, Proto::Echo),
            Protocol::Websocket => (Proto::WebSocket, Proto::WebSocket),
            Protocol::Docker => (Proto::Docker, Proto::Docker),
        },
    };
    let mut target = super::target::resolve("--proxy", proxy, protocol, args, rt, timeout)?;
    let listener = std::net::TcpListener::bind(upstream)
        .with_context(|| format!("cannot start the upstream echo server on {upstream}"))?;
    let upstream_server = HarnessUpstream::start(listener, upstream_proto)
        .context("cannot start the upstream echo server")?;
    let upstream = upstream_server.address();
    eprintln!(
        "hijack-harness: upstream {} server on {upstream}",
        upstream_proto.as_str()
    );
    target.connect_to = Some(upstream);
    target.proxy = true;
    if args.name.is_none() {
        target.name = format!("proxy {}", target.endpoint);
    }
    report.transport = Some(target.transport());
    if !cases.is_empty() {
        report.results = rt.block_on(async {
            let progress = reporter.phase(cases.len(), "cases", true);
            black_box::run_server(&target, cases, &opts, progress).await
        });
    }
    if !tunnel.is_empty() {
        let proxy = ProxyTarget::new(target, &upstream_server, args.connect_denied.clone());
        let results = reporter.one_at_a_time(rt, &proxy, tunnel, &opts);
        report.results.extend(results);
    }
    upstream_server.stop();
    Ok(())
}

/// Resolves HOST:PORT to one TCP address (the first the resolver gives).
fn tcp_address(what: &str, text: &str) -> anyhow::Result<SocketAddr> {
    text.to_socket_addrs()
        .with_context(|| format!("{what} {text:?} is not HOST:PORT"))?
        .next()
        .with_context(|| format!("{what} {text:?} resolves to no address"))
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
                image: None,
            };
            let mut t = target.clone();
            t.path = Some(engine.attach_path());
            t.name = format!("{container}/{}", engine.endpoint_name());
            t.engine = Some(engine);
            t
        })
        .collect())
}
