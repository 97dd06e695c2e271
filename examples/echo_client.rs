//! A client that follows the `--client-cmd` contract, built on the reference
//! client: connect to ADDR, ask for `Upgrade: echo`, and after the 101 echo every
//! byte until EOF, then shut down the write half.
//!
//! ```text
//! cargo build --example echo_client
//! hijack-harness run --client-cmd 'target/debug/examples/echo_client {addr}'
//! hijack-harness run --listen unix: --client-cmd 'target/debug/examples/echo_client unix:{addr}'
//! hijack-harness run --tls --client-cmd 'target/debug/examples/echo_client --ca {ca} {addr}'
//! ```
//!
//! With `--ca FILE` it speaks TLS (rustls, through the harness's transport
//! layer) and trusts only that CA: the harness's throw-away one, given as `{ca}`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use hijack_harness::reference::head::{Header, RequestHead};
use hijack_harness::reference::{ClientConn, Config, RequestBody};
use hijack_harness::wire::transport::{self, Address, ClientTls, Endpoint, TlsClientOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long the connect (and TLS handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

const USAGE: &str = "usage: echo_client [--ca CA.pem] HOST:PORT|unix:PATH";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut ca = None;
    let mut target = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ca" => match args.next() {
                Some(file) => ca = Some(PathBuf::from(file)),
                None => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            },
            _ => target = Some(arg),
        }
    }
    let Some(endpoint) = target.and_then(|t| Endpoint::parse(&t).ok()) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(endpoint, ca).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_client: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(endpoint: Endpoint, ca: Option<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    // No `Endpoint::resolve`: it tries a connection first, and in a client run
    // the harness would take that one for the case's.
    let address = match &endpoint {
        Endpoint::Unix(path) => Address::Unix(path.clone()),
        Endpoint::Tcp { host, port } => Address::Tcp(
            tokio::net::lookup_host((host.as_str(), *port))
                .await?
                .next()
                .ok_or("the host has no address")?,
        ),
    };
    let tls = match ca {
        Some(ca) => Some(ClientTls::new(
            &TlsClientOptions {
                ca: Some(ca),
                ..TlsClientOptions::default()
            },
            &endpoint,
        )?),
        None => None,
    };
    let io = transport::connect(&address, tls.as_ref(), CONNECT_TIMEOUT).await?;
    let host = match &endpoint {
        Endpoint::Unix(_) => "localhost".to_string(),
        Endpoint::Tcp { host, port } => format!("{host}:{port}"),
    };
    let mut conn = ClientConn::new(io, Config::default());
    let head = RequestHead {
        method: "GET".into(),
        target: "/".into(),
        headers: vec![
            Header::new("Host", host),
            Header::new("Connection", "Upgrade"),
            Header::new("Upgrade", "echo"),
        ],
    };
    conn.send(&head, &RequestBody::Empty).await?;
    let response = conn.read_response().await?;
    if response.status != 101 {
        return Err(format!("the server answered {}, not 101", response.status).into());
    }
    // The hijacked stream replays what the client library read past the head.
    let stream = conn.hijack()?;
    if std::env::var_os("ECHO_CLIENT_DROP_READ_AHEAD").is_some() {
        // The bug, on purpose (rancher-desktop#8311): use the raw connection and
        // lose what the library read past the 101.
        return echo(stream.into_parts().io).await;
    }
    echo(stream).await
}

async fn echo<S: AsyncReadExt + AsyncWriteExt + Unpin>(
    mut stream: S,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        stream.write_all(&buf[..n]).await?;
    }
    stream.shutdown().await?;
    Ok(())
}
