//! `serve --proxy`: the reference proxy ([`crate::reference::proxy`]), or one
//! of its mutants ([`ProxyFlaw`]), on a listener, in front of one upstream
//! reached over TCP: every request's upstream leg is a fresh TCP connection to
//! that address, whatever the request's `Host`, and a `CONNECT` is forwarded
//! there too, as to a next hop (the reference proxy's way: the upstream
//! answers the `CONNECT`), whatever its target.
//!
//! With an only-token filter the proxy forwards only upgrades that offer that
//! token (`websocket`, Docker's `tcp`): any other upgrade request is answered
//! `400` and closed, as a proxy configured for one protocol does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use crate::reference::Hijacked;
use crate::reference::head;
use crate::subject::proxy::mutants::{ProxyFlaw, ProxyMutant};
use crate::subject::proxy::{ProxySubject, ReferenceProxy, Upstream};
use crate::subject::{BoxFuture, BoxIo};
use crate::wire::transport::{Listener, TransportError};

/// How long a refused connection's input is read and dropped before the close.
const LINGER: Duration = Duration::from_millis(200);

/// How `serve --proxy` serves.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// The upstream every request goes to.
    pub upstream: SocketAddr,
    /// The flaw of the mutant to serve, or `None` for the reference proxy.
    pub flaw: Option<ProxyFlaw>,
    /// Forward only upgrades that offer this token.
    pub only_token: Option<String>,
    /// How long a request head (and a TLS handshake) may take.
    pub head_timeout: Duration,
}

/// The flaw named `name`: its name ([`ProxyFlaw::name`], `tunnels-after-refusal`)
/// or its variant's (`TunnelsAfterRefusal`), any case.
pub fn flaw_named(name: &str) -> Option<ProxyFlaw> {
    ProxyFlaw::from_name(&name.to_ascii_lowercase()).or_else(|| {
        ProxyFlaw::ALL
            .into_iter()
            .find(|f| format!("{f:?}").eq_ignore_ascii_case(name))
    })
}

/// An [`Upstream`] that opens a TCP connection to one address for every request.
#[derive(Debug, Clone, Copy)]
pub struct TcpUpstream(pub SocketAddr);

impl Upstream for TcpUpstream {
    fn connect(&mut self, _authority: &str) -> BoxFuture<'_, std::io::Result<BoxIo>> {
        let address = self.0;
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxIo)
        })
    }
}

/// Serves the proxy `options` describe on `listener` until `stop` completes.
pub async fn serve_proxy(
    listener: Listener,
    options: ProxyOptions,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), TransportError> {
    let subject: Arc<dyn ProxySubject> = match options.flaw {
        Some(flaw) => Arc::new(ProxyMutant(flaw)),
        None => Arc::new(ReferenceProxy),
    };
    let options = Arc::new(options);
    let mut tasks = JoinSet::new();
    super::accept_until(&listener, stop, &mut tasks, |accepted, tasks| {
        let (subject, options) = (subject.clone(), options.clone());
        tasks.spawn(async move {
            let Ok(client) = accepted.establish(options.head_timeout).await else {
                return;
            };
            let client = match &options.only_token {
                Some(token) => match only(client, token, options.head_timeout).await {
                    Some(client) => client,
                    None => return,
                },
                None => client,
            };
            let upstream = Box::new(TcpUpstream(options.upstream));
            if let Err(e) = subject.serve(client, upstream).await {
                tracing::debug!(error = %e, "proxy connection ended with an error");
            }
        });
    })
    .await;
    tasks.shutdown().await;
    Ok(())
}

/// Reads the request head; an upgrade that does not offer `token` is answered
/// `400` and closed (`None`), anything else goes on, its bytes replayed first.
async fn only(mut client: BoxIo, token: &str, timeout: Duration) -> Option<BoxIo> {
    let mut read = Vec::new();
    let mut buf = [0u8; 4096];
    let reading = async {
        loop {
            match head::parse_served_request(&read) {
                Ok(Some((request, _))) => return Some(request),
                Ok(None) if read.len() < 64 * 1024 => {}
                _ => return None,
            }
            match client.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => read.extend_from_slice(&buf[..n]),
            }
        }
    };
    let request = tokio::time::timeout(timeout, reading)
        .await
        .ok()
        .flatten()?;
    let upgrade = head::header_value(&request.headers, "upgrade");
    if request.is_connect()
        || upgrade.is_none()
        || head::has_token(&request.headers, "upgrade", token)
    {
        return Some(Box::new(Hijacked::new(
            client,
            Bytes::from(read),
            Bytes::new(),
        )));
    }
    let refusal = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    let _ = client.write_all(refusal).await;
    let _ = client.shutdown().await;
    // A graceful close: what the client still sends is read and dropped for a
    // moment, so that no reset destroys the answer.
    let draining = async { while matches!(client.read(&mut buf).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(LINGER, draining).await;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutant_is_named_either_way() {
        for flaw in ProxyFlaw::ALL {
            assert_eq!(flaw_named(flaw.name()), Some(flaw));
            assert_eq!(flaw_named(&format!("{flaw:?}")), Some(flaw));
        }
        assert_eq!(flaw_named("FORWARDS-EARLY"), Some(ProxyFlaw::ForwardsEarly));
        assert_eq!(flaw_named("reference"), None);
    }
}
