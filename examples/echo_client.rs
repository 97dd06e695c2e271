//! A client that follows the `--client-cmd` contract, built on the reference
//! client: connect to ADDR, ask for `Upgrade: echo`, and after the 101 echo every
//! byte until EOF, then shut down the write half.
//!
//! ```text
//! cargo build --example echo_client
//! hijack-harness run --client-cmd 'target/debug/examples/echo_client {addr}'
//! ```

use std::process::ExitCode;

use hijack_harness::reference::head::{Header, RequestHead};
use hijack_harness::reference::{self, ClientConn, Config, RequestBody};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(addr) = std::env::args().nth(1).and_then(|a| a.parse().ok()) else {
        eprintln!("usage: echo_client HOST:PORT");
        return ExitCode::from(2);
    };
    match run(addr).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_client: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let io = reference::connect(addr).await?;
    let mut conn = ClientConn::new(io, Config::default());
    let head = RequestHead {
        method: "GET".into(),
        target: "/".into(),
        headers: vec![
            Header::new("Host", addr.to_string()),
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
