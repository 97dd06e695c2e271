//! Proxy mutants: the reference proxy ([`crate::reference::proxy`]) with one
//! deliberate flaw each, every one the shape of a public failure. Each must be
//! caught by the proxy property with the point, the leg and the bytes in its
//! diagnosis; [`ProxyFlaw::ClosesBothOnFin`], [`ProxyFlaw::RefusalAs502`] and
//! [`ProxyFlaw::ParsesConnectEarlyData`] must come out non-strict, never fail.

use bytes::Bytes;
use tokio::io::{AsyncWriteExt, copy, split};

use super::version_blind::VersionBlind;
use super::{ProxySubject, Upstream, open};
use crate::reference::head::{self, ResponseHead};
use crate::reference::proxy::{self as reference, Decision, Offer};
use crate::reference::{ClientConn, Config, Hijacked, RequestBody, Result, ServerConn};
use crate::subject::{BoxFuture, BoxIo, SubjectError};

/// A deliberate flaw in the reference proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyFlaw {
    /// Tunnels after any answer, a refusal included (0ang3el/websocket-smuggle:
    /// Varnish, Envoy <= 1.8; Kubernetes CVE-2018-1002105).
    TunnelsAfterRefusal,
    /// Forwards the bytes it holds after the request before the upstream
    /// answered (Pingora CVE-2026-2833).
    ForwardsEarly,
    /// Loses its own read-ahead, on both legs, when the tunnel starts: it
    /// splices the raw connections (golang/go#80875's shape).
    LosesReadAhead,
    /// Relays any `101`, whatever token it names (nginx checks only the status).
    RelaysUnofferedToken,
    /// Forwards `Upgrade: h2c` and `HTTP2-Settings` as received, and tunnels
    /// the upstream's `101` (h2c smuggling; traefik#9341).
    ForwardsH2c,
    /// On a refused `CONNECT`, forwards the bytes sent with it (Envoy CVE-2025-64763).
    ForwardsConnectEarlyDataOnRefusal,
    /// Closes both legs when one side closes, dropping what was in flight the
    /// other way: RFC 9110 §9.3.6 allows it, so it is non-strict, not a failure.
    ClosesBothOnFin,
    /// Never passes a FIN on: each direction is copied, and its end is not
    /// shut down (moby/moby#36516's lost `CloseWrite`, in a tunnel).
    SwallowsFin,
    /// Answers a refusal that carries `Connection: upgrade` with its own `502`
    /// (haproxy#1997): the client never learns why; non-strict, as RFC 9110
    /// has no sentence that makes a proxy relay a refusal.
    RefusalAs502,
    /// Reads every request as HTTP/1.1, so it honours an HTTP/1.0 request's
    /// `Upgrade`: forwards it as HTTP/1.1 and tunnels the `101` (RFC 9110 §7.8:
    /// a server "MUST ignore that Upgrade field"; §15.2: no `1xx` to an
    /// HTTP/1.0 client).
    HonoursHttp10Upgrade,
    /// After a refused `CONNECT`, keeps the client leg as HTTP: the bytes sent
    /// with the `CONNECT` are read as its next request and answered. Non-strict:
    /// RFC 9110 §9.3.6 leaves their meaning to the HTTP version, though the
    /// client meant them as tunnel data.
    ParsesConnectEarlyData,
}

impl ProxyFlaw {
    /// Every flaw.
    pub const ALL: [ProxyFlaw; 11] = [
        ProxyFlaw::TunnelsAfterRefusal,
        ProxyFlaw::ForwardsEarly,
        ProxyFlaw::LosesReadAhead,
        ProxyFlaw::RelaysUnofferedToken,
        ProxyFlaw::ForwardsH2c,
        ProxyFlaw::ForwardsConnectEarlyDataOnRefusal,
        ProxyFlaw::ClosesBothOnFin,
        ProxyFlaw::SwallowsFin,
        ProxyFlaw::RefusalAs502,
        ProxyFlaw::HonoursHttp10Upgrade,
        ProxyFlaw::ParsesConnectEarlyData,
    ];
}

impl ProxyFlaw {
    /// Its name on the command line and in `fuzz/detect.sh` (kebab case).
    pub fn name(self) -> &'static str {
        match self {
            ProxyFlaw::TunnelsAfterRefusal => "tunnels-after-refusal",
            ProxyFlaw::ForwardsEarly => "forwards-early",
            ProxyFlaw::LosesReadAhead => "loses-read-ahead",
            ProxyFlaw::RelaysUnofferedToken => "relays-unoffered-token",
            ProxyFlaw::ForwardsH2c => "forwards-h2c",
            ProxyFlaw::ForwardsConnectEarlyDataOnRefusal => {
                "forwards-connect-early-data-on-refusal"
            }
            ProxyFlaw::ClosesBothOnFin => "closes-both-on-fin",
            ProxyFlaw::SwallowsFin => "swallows-fin",
            ProxyFlaw::RefusalAs502 => "refusal-as-502",
            ProxyFlaw::HonoursHttp10Upgrade => "honours-http10-upgrade",
            ProxyFlaw::ParsesConnectEarlyData => "parses-connect-early-data",
        }
    }

    /// The flaw called `name`.
    pub fn from_name(name: &str) -> Option<ProxyFlaw> {
        ProxyFlaw::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether it breaks only SHOULDs: the properties and the fuzzer must pass it.
    pub fn non_strict(self) -> bool {
        matches!(
            self,
            ProxyFlaw::ClosesBothOnFin
                | ProxyFlaw::RefusalAs502
                | ProxyFlaw::ParsesConnectEarlyData
        )
    }
}

/// The reference proxy with one flaw.
#[derive(Debug, Clone, Copy)]
pub struct ProxyMutant(pub ProxyFlaw);

impl ProxySubject for ProxyMutant {
    fn name(&self) -> String {
        format!("proxy-mutant-{:?}", self.0)
    }

    fn serve(
        &self,
        client: BoxIo,
        upstream: Box<dyn Upstream>,
    ) -> BoxFuture<'static, Result<(), SubjectError>> {
        let flaw = self.0;
        Box::pin(async move {
            serve(client, upstream, flaw)
                .await
                .map_err(|e| SubjectError::Library(e.to_string()))
        })
    }
}

/// [`reference::serve`], step by step, with `flaw` at its place.
async fn serve(client: BoxIo, upstream: Box<dyn Upstream>, flaw: ProxyFlaw) -> Result<()> {
    use ProxyFlaw::*;
    let client: BoxIo = match flaw {
        HonoursHttp10Upgrade => Box::new(VersionBlind::new(client)),
        _ => client,
    };
    let mut server = ServerConn::new(client, Config::default());
    let Some(request) = server.read_request().await? else {
        return Ok(());
    };
    let mut offer = reference::offer(&request.head);
    let mut head = reference::forwarded(&request.head, &offer, request.body.len());
    if flaw == ForwardsH2c && head::has_token(&request.head.headers, "upgrade", "h2c") {
        offer = Offer::Upgrade(vec!["h2c".into()]);
        head = request.head.clone();
    }
    let connect = matches!(offer, Offer::Connect(_));
    let authority = head::header_value(&request.head.headers, "host").unwrap_or_default();
    let mut up = ClientConn::new(open(upstream, authority.into()).await?, Config::default());
    let body = match request.body.len() {
        0 => RequestBody::Empty,
        _ => RequestBody::Length(request.body.clone()),
    };
    up.send(&head, &body).await?;
    if flaw == ForwardsEarly {
        forward_held(&mut server, &mut up).await?;
    }
    let answer = up.read_response().await?;
    let decision = match flaw {
        TunnelsAfterRefusal if answer.status != 101 => Decision::Tunnel,
        RelaysUnofferedToken if answer.status == 101 => Decision::Tunnel,
        _ => reference::decide(&offer, &answer),
    };
    match decision {
        Decision::Tunnel => tunnel(server, &answer, up, flaw).await,
        Decision::Relay if flaw == RefusalAs502 && answer.status != 101 => {
            reference::answer_and_close(server, 502, "Bad Gateway").await
        }
        Decision::Relay if flaw == ParsesConnectEarlyData && connect => {
            let body = reference::refusal_body(up, &answer, connect).await?;
            server.write_response(&reference::relayed(&answer, Vec::new()), &body);
            match server.read_request().await {
                Ok(Some(_)) => reference::answer_and_close(server, 404, "Not Found").await,
                _ => server.close().await,
            }
        }
        Decision::Relay => {
            if flaw == ForwardsConnectEarlyDataOnRefusal && connect {
                forward_held(&mut server, &mut up).await?;
            }
            reference::relay(server, &answer, up, connect).await
        }
        Decision::BadGateway => reference::answer_and_close(server, 502, "Bad Gateway").await,
    }
}

/// Writes the client's bytes the proxy holds (its read-ahead) to the upstream.
async fn forward_held(server: &mut ServerConn<BoxIo>, up: &mut ClientConn<BoxIo>) -> Result<()> {
    let held = server.buffered().read_ahead().len();
    let held = server.buffered().take_read_ahead(held);
    up.write_early(&held).await
}

/// [`reference::tunnel`], taking both legs after any answer, with `flaw`.
async fn tunnel(
    mut server: ServerConn<BoxIo>,
    answer: &ResponseHead,
    up: ClientConn<BoxIo>,
    flaw: ProxyFlaw,
) -> Result<()> {
    server.write_response(&reference::relayed(answer, Vec::new()), &[]);
    let mut client = server.hijack_explicit().await?;
    let mut upstream = up.hijack_explicit();
    if flaw == ProxyFlaw::LosesReadAhead {
        client = without_read_ahead(client);
        upstream = without_read_ahead(upstream);
    }
    client.flush().await?;
    let pass_fin = flaw != ProxyFlaw::SwallowsFin;
    if flaw != ProxyFlaw::ClosesBothOnFin && pass_fin {
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        return Ok(());
    }
    let (mut client_read, mut client_write) = split(client);
    let (mut upstream_read, mut upstream_write) = split(upstream);
    let up = async {
        copy(&mut client_read, &mut upstream_write).await?;
        if pass_fin {
            upstream_write.shutdown().await?;
        }
        std::io::Result::Ok(())
    };
    let down = async {
        copy(&mut upstream_read, &mut client_write).await?;
        if pass_fin {
            client_write.shutdown().await?;
        }
        std::io::Result::Ok(())
    };
    if flaw == ProxyFlaw::SwallowsFin {
        let (up, down) = tokio::join!(up, down);
        return Ok(up.and(down)?);
    }
    // The first side to close ends both directions; both legs drop here.
    tokio::select! {
        biased;
        done = up => done?,
        done = down => done?,
    }
    Ok(())
}

fn without_read_ahead(stream: Hijacked<BoxIo>) -> Hijacked<BoxIo> {
    let parts = stream.into_parts();
    Hijacked::new(parts.io, Bytes::new(), parts.write_buf)
}
