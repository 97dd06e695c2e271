//! hyper 1.x with its defaults (`http1::Builder::new()`, `.with_upgrades()`), speaking
//! the black-box `echo` protocol: `Upgrade: echo` is answered with 101, then every
//! byte read from hyper's `Upgraded` is written back; at EOF the write half is shut
//! down (FIN), and the connection is dropped once the peer closes too. Any other
//! request gets `426 Upgrade Required`. Usage: `interop-hyper-echo PORT` (127.0.0.1).

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONNECTION, UPGRADE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn asks_for_echo(req: &Request<Incoming>) -> bool {
    let has_token = |name, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
                .unwrap_or(false)
        })
    };
    has_token(CONNECTION, "upgrade") && has_token(UPGRADE, "echo")
}

async fn echo(upgraded: hyper::upgrade::Upgraded) {
    let mut io = TokioIo::new(upgraded);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match io.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if io.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = io.shutdown().await;
    // Keep the read half open until the peer closes, so its FIN is the end.
    while let Ok(n) = io.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

async fn handle(mut req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if !asks_for_echo(&req) {
        let mut res = Response::new(Full::new(Bytes::from_static(b"upgrade required\n")));
        *res.status_mut() = StatusCode::UPGRADE_REQUIRED;
        return Ok(res);
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            echo(upgraded).await;
        }
    });
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    res.headers_mut().insert(CONNECTION, "upgrade".parse().unwrap());
    res.headers_mut().insert(UPGRADE, "echo".parse().unwrap());
    Ok(res)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(18010);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("interop-hyper-echo: cannot listen on {addr}: {e}");
            std::process::exit(2);
        }
    };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(handle))
                .with_upgrades()
                .await;
        });
    }
}
