//! A minimal `CONNECT` proxy built on the reference server, to try
//! `hijack-harness run --proxy ... --via connect` against (loopback targets only).
//!
//! ```text
//! cargo run --example connect_proxy -- 127.0.0.1:3128
//! hijack-harness run --proxy 127.0.0.1:3128 --via connect
//! ```

use std::net::SocketAddr;

use hijack_harness::reference::head::ResponseHead;
use hijack_harness::reference::{Config, ServerConn};
use tokio::net::{TcpListener, TcpStream};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3128".into())
        .parse()?;
    let listener = TcpListener::bind(listen).await?;
    eprintln!("connect_proxy on {}", listener.local_addr()?);
    loop {
        let (client, _) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = tunnel(client).await {
                eprintln!("connect_proxy: {e}");
            }
        });
    }
}

async fn tunnel(client: TcpStream) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    client.set_nodelay(true)?;
    let mut conn = ServerConn::new(client, Config::default());
    let Some(request) = conn.read_request().await? else {
        return Ok(());
    };
    let upstream: SocketAddr = request.head.target.parse()?;
    let answer = |status: u16, reason: &str| ResponseHead {
        status,
        reason: reason.into(),
        headers: Vec::new(),
    };
    if !request.head.is_connect() || !upstream.ip().is_loopback() {
        conn.write_response(&answer(403, "Forbidden"), b"loopback CONNECT only\n");
        conn.flush().await?;
        return Ok(());
    }
    let mut upstream = TcpStream::connect(upstream).await?;
    upstream.set_nodelay(true)?;
    conn.write_response(&answer(200, "Connection Established"), &[]);
    conn.flush().await?;
    // The hijacked stream first yields the bytes the client sent with its
    // CONNECT: forwarding them is what the tunnel-early-data case checks.
    let mut client = conn.hijack().await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
