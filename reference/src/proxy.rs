//! The reference proxy: an HTTP/1.1 intermediary that forwards one request
//! (a `GET` with `Upgrade`, or a `CONNECT` to its upstream as the next hop),
//! relays the answer, and becomes a tunnel only when both ends agreed. It is
//! built on the reference server (the client leg) and client (the upstream
//! leg), and its tunnel rules are these:
//!
//! 1. **It tunnels only after the upstream switched**: a `101` naming a token
//!    the client offered and the proxy forwarded (RFC 9110 §7.8: a server "MUST
//!    NOT switch to a protocol that was not indicated by the client"), or a
//!    `2xx` to `CONNECT` (RFC 9110 §9.3.6: "Any 2xx (Successful) response
//!    indicates that the sender (and all inbound proxies) will switch to tunnel
//!    mode immediately after the response header section"). A `101` for
//!    anything else is answered `502 Bad Gateway`, and both legs closed.
//! 2. **Nothing crosses early.** Bytes the client sent with or after the
//!    request stay in the client leg's read-ahead (or its socket) until the
//!    answer arrived. After a switch they cross first, once, in order; after a
//!    refusal the answer is relayed with `Connection: close`, the held bytes
//!    are dropped, and the upstream leg is closed: never tunnelled (WebSocket
//!    smuggling, CVE-2018-1002105, Pingora CVE-2026-2833, Envoy CVE-2025-64763).
//! 3. **Its own read-ahead goes into the tunnel first**, on both legs: the
//!    client's bytes that arrived with the request, the upstream's bytes that
//!    arrived with the `101` ([`Hijacked`](super::Hijacked) replays them).
//! 4. **A FIN is passed on as a FIN**: when one side half-closes, the other leg
//!    is shut down for writing and the other direction keeps flowing (RFC 9110
//!    §9.3.6 would allow closing both; keeping the half-close loses nothing).
//! 5. **Hop-by-hop fields are not forwarded** (RFC 9110 §7.6.1): `Connection`,
//!    `Upgrade` and the fields `Connection` names are dropped, and the proxy
//!    asks for the upgrade again in its own name, without `h2c` (h2c smuggling:
//!    an `h2c` upgrade passed on opens HTTP/2 to the upstream past every rule).
//!
//! It serves one request per connection: keep-alive is not what it is for.

use std::future::Future;
use std::io;
use std::pin::Pin;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tracing::debug;

use super::head::{self, Header, RequestHead, ResponseHead};
use super::io::BoxIo;
use super::shared::Shared;
use super::{BodyReader, ClientConn, Config, RequestBody, Result, ServerConn};

/// Header fields that belong to one connection (RFC 9110 §7.6.1), never forwarded as received.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// What the client asked the proxy to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// A tunnel to this `CONNECT` target.
    Connect(String),
    /// A switch to one of these tokens (never `h2c`); empty: a plain request.
    Upgrade(Vec<String>),
}

/// What the proxy does with the upstream's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Relay the answer and tunnel.
    Tunnel,
    /// Relay the answer as HTTP, then close.
    Relay,
    /// A `101` the client did not ask for: answer `502` and close.
    BadGateway,
}

/// What `head` offers, without `h2c` (rule 5).
pub fn offer(head: &RequestHead) -> Offer {
    if head.is_connect() {
        return Offer::Connect(head.target.clone());
    }
    if !head.wants_upgrade() {
        return Offer::Upgrade(Vec::new());
    }
    let tokens = head::header_value(&head.headers, "upgrade")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("h2c"))
        .map(String::from)
        .collect();
    Offer::Upgrade(tokens)
}

/// The request the proxy sends upstream: `head` without its hop-by-hop fields
/// (and those `Connection` names), with the upgrade asked again in the proxy's
/// name and the body's length as the proxy sends it.
pub fn forwarded(head: &RequestHead, offer: &Offer, body_len: usize) -> RequestHead {
    let named = |name: &str| head::has_token(&head.headers, "connection", name);
    let mut headers: Vec<Header> = head
        .headers
        .iter()
        .filter(|h| {
            let name = h.name.to_ascii_lowercase();
            !HOP_BY_HOP.contains(&name.as_str()) && name != "content-length" && !named(&name)
        })
        .cloned()
        .collect();
    if let Offer::Upgrade(tokens) = offer
        && !tokens.is_empty()
    {
        headers.push(Header::new("Connection", "Upgrade"));
        headers.push(Header::new("Upgrade", tokens.join(", ")));
    }
    if body_len > 0 {
        headers.push(Header::new("Content-Length", body_len.to_string()));
    }
    RequestHead {
        method: head.method.clone(),
        target: head.target.clone(),
        headers,
    }
}

/// Rule 1: tunnel only after a `101` naming an offered token, or a `2xx` to `CONNECT`.
pub fn decide(offer: &Offer, answer: &ResponseHead) -> Decision {
    match offer {
        Offer::Connect(_) if (200..300).contains(&answer.status) => Decision::Tunnel,
        _ if answer.status != 101 => Decision::Relay,
        Offer::Upgrade(tokens) => {
            let named = head::header_value(&answer.headers, "upgrade").unwrap_or_default();
            if tokens.iter().any(|t| t.eq_ignore_ascii_case(named.trim())) {
                Decision::Tunnel
            } else {
                Decision::BadGateway
            }
        }
        Offer::Connect(_) => Decision::BadGateway,
    }
}

/// How the harness hands [`serve`] its `connect`: boxed, so that the proxy's
/// code for it is compiled in this crate (see [`crate::instances`]).
pub type Connect =
    Box<dyn FnOnce(String) -> Pin<Box<dyn Future<Output = io::Result<BoxIo>> + Send>> + Send>;

/// Serves one client connection: reads the request, opens the upstream leg
/// with `connect` (given the `Host` or the `CONNECT` target), forwards the
/// request, and tunnels, relays or answers `502` as [`decide`] says.
pub fn serve<C, U, F, Fut>(client: C, connect: F) -> impl Future<Output = Result<()>>
where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = io::Result<U>>,
{
    Shared::new(async move {
        let mut server = ServerConn::new(client, Config::default());
        let Some(request) = server.read_request().await? else {
            return Ok(());
        };
        let offer = offer(&request.head);
        let authority = match &offer {
            Offer::Connect(target) => target.clone(),
            Offer::Upgrade(_) => head::header_value(&request.head.headers, "host")
                .unwrap_or_default()
                .to_string(),
        };
        let upstream = match connect(authority).await {
            Ok(upstream) => upstream,
            Err(e) => {
                debug!("proxy: the upstream is unreachable: {e}");
                return answer_and_close(server, 502, "Bad Gateway").await;
            }
        };
        let mut upstream = ClientConn::new(upstream, Config::default());
        let body = match request.body.len() {
            0 => RequestBody::Empty,
            _ => RequestBody::Length(request.body.clone()),
        };
        let head = forwarded(&request.head, &offer, request.body.len());
        upstream.send(&head, &body).await?;
        let answer = upstream.read_response().await?;
        debug!("proxy: upstream answered {}", answer.status);
        match decide(&offer, &answer) {
            Decision::Tunnel => tunnel(server, &answer, upstream).await,
            Decision::Relay => {
                let connect = matches!(offer, Offer::Connect(_));
                relay(server, &answer, upstream, connect).await
            }
            Decision::BadGateway => answer_and_close(server, 502, "Bad Gateway").await,
        }
    })
}

/// Relays a switching `answer` and splices the legs, read-ahead first (rules 2 to 4).
pub fn tunnel<C, U>(
    mut server: ServerConn<C>,
    answer: &ResponseHead,
    upstream: ClientConn<U>,
) -> impl Future<Output = Result<()>>
where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
{
    Shared::new(async move {
        server.write_response(&relayed(answer, Vec::new()), &[]);
        let mut client = server.hijack().await?;
        let mut upstream = upstream.hijack()?;
        // The answer goes out now, not with the first tunnelled byte.
        client.flush().await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        Ok(())
    })
}

/// Relays a refusal as HTTP with `Connection: close`, then closes both legs:
/// the client's held bytes are dropped, never forwarded (rule 2).
pub fn relay<C, U>(
    mut server: ServerConn<C>,
    answer: &ResponseHead,
    upstream: ClientConn<U>,
    connect: bool,
) -> impl Future<Output = Result<()>>
where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
{
    Shared::new(async move {
        let body = refusal_body(upstream, answer, connect).await?;
        let close = vec![Header::new("Connection", "close")];
        server.write_response(&relayed(answer, close), &body);
        server.close().await
    })
}

/// Reads the body of a refusal `answer` off the upstream leg, then drops that leg.
pub fn refusal_body<U>(
    upstream: ClientConn<U>,
    answer: &ResponseHead,
    connect: bool,
) -> impl Future<Output = Result<BytesMut>>
where
    U: AsyncRead + AsyncWrite + Unpin,
{
    Shared::new(async move {
        let mut conn = upstream.into_buffered();
        let mut reader = BodyReader::new(answer.framing(connect)?);
        let mut body = BytesMut::new();
        loop {
            let chunk = reader.read(&mut conn, 64 * 1024).await?;
            if chunk.is_empty() {
                return Ok(body);
            }
            body.extend_from_slice(&chunk);
        }
    })
}

/// Answers `status` with no body and `Connection: close`, then closes.
pub fn answer_and_close<C: AsyncRead + AsyncWrite + Unpin>(
    mut server: ServerConn<C>,
    status: u16,
    reason: &str,
) -> impl Future<Output = Result<()>> {
    Shared::new(async move {
        let head = ResponseHead {
            status,
            reason: reason.into(),
            headers: vec![Header::new("Connection", "close")],
        };
        server.write_response(&head, &[]);
        server.close().await
    })
}

/// `answer` as relayed to the client: its end-to-end fields, and `extra`; a
/// `101` names its token again in the proxy's own `Connection`/`Upgrade`.
pub fn relayed(answer: &ResponseHead, extra: Vec<Header>) -> ResponseHead {
    let mut headers: Vec<Header> = answer
        .headers
        .iter()
        .filter(|h| !HOP_BY_HOP.contains(&h.name.to_ascii_lowercase().as_str()))
        .cloned()
        .collect();
    if answer.status == 101
        && let Some(token) = head::header_value(&answer.headers, "upgrade")
    {
        headers.push(Header::new("Connection", "Upgrade"));
        headers.push(Header::new("Upgrade", token));
    }
    headers.extend(extra);
    ResponseHead {
        status: answer.status,
        reason: answer.reason.clone(),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(raw: &str) -> RequestHead {
        head::parse_request(raw.as_bytes())
            .ok()
            .flatten()
            .expect("a request")
            .0
    }

    fn response(status: u16, upgrade: &str) -> ResponseHead {
        ResponseHead {
            status,
            reason: String::new(),
            headers: vec![Header::new("Upgrade", upgrade)],
        }
    }

    #[test]
    fn h2c_is_not_offered_upstream() {
        let head = request(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AA\r\n\r\n",
        );
        let offer = offer(&head);
        assert_eq!(offer, Offer::Upgrade(Vec::new()));
        let out = forwarded(&head, &offer, 0);
        assert!(head::header_value(&out.headers, "upgrade").is_none());
        assert!(head::header_value(&out.headers, "http2-settings").is_none());
        assert_eq!(decide(&offer, &response(101, "h2c")), Decision::BadGateway);
    }

    #[test]
    fn only_an_offered_token_or_a_2xx_to_connect_opens_a_tunnel() {
        let ws = offer(&request(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        ));
        assert_eq!(decide(&ws, &response(101, "websocket")), Decision::Tunnel);
        assert_eq!(decide(&ws, &response(101, "echo")), Decision::BadGateway);
        assert_eq!(decide(&ws, &response(426, "websocket")), Decision::Relay);
        assert_eq!(decide(&ws, &response(200, "")), Decision::Relay);
        let connect = offer(&request("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"));
        assert_eq!(decide(&connect, &response(200, "")), Decision::Tunnel);
        assert_eq!(decide(&connect, &response(403, "")), Decision::Relay);
        assert_eq!(decide(&connect, &response(101, "x")), Decision::BadGateway);
    }
}
