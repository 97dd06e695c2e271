//! Where a black-box server or proxy run reaches its target: what `--server`,
//! `--proxy` and the TLS flags say, turned into a resolved [`ServerTarget`].
//!
//! A target is `HOST:PORT` (any host name or address: a service container's
//! `app:8080` resolves through the container network's DNS), `unix:PATH` or
//! `unix://PATH` (Docker's daemon), or either with TLS: `--tls`, or a scheme
//! that means TLS (`tls://`, `https://`, `wss://`). A path after a scheme
//! (`wss://host:8443/ws`) is the request target unless `--path` gives one.
//!
//! The endpoint is resolved and connected to once, TLS handshake included,
//! before any case ([`black_box::preflight`]): a name that does not resolve,
//! nothing listening or a certificate that does not verify stops the run with
//! one line and exit code 2, instead of a column of failed cases.

use std::time::Duration;

use anyhow::Context as _;

use hijack_harness::reference::head::Header;
use hijack_harness::runner::black_box::{self, ServerTarget};
use hijack_harness::suite::Proto;
use hijack_harness::wire::transport::{ClientTls, Endpoint, TlsClientOptions};

use super::RunArgs;

/// The schemes that mean "TLS to this host and port".
const TLS_SCHEMES: [&str; 3] = ["tls://", "https://", "wss://"];

/// What the user typed for a target, split: the endpoint text, whether its
/// scheme asked for TLS, and the path after it.
fn split(text: &str) -> (&str, bool, Option<&str>) {
    let text = text.trim();
    let Some(rest) = TLS_SCHEMES.iter().find_map(|s| text.strip_prefix(s)) else {
        return (text, false, None);
    };
    match rest.find('/') {
        Some(slash) if slash + 1 < rest.len() => (&rest[..slash], true, Some(&rest[slash..])),
        Some(slash) => (&rest[..slash], true, None),
        None => (rest, true, None),
    }
}

/// Resolves the target `what` (`--server`, `--proxy`) at `text` for a run of
/// `protocol`, with TLS when the flags or the scheme ask for it.
pub fn resolve(
    what: &str,
    text: &str,
    protocol: Proto,
    args: &RunArgs,
    rt: &tokio::runtime::Runtime,
    timeout: Duration,
) -> anyhow::Result<ServerTarget> {
    if let Some(name) = &args.subprotocol {
        anyhow::ensure!(
            protocol == Proto::WebSocket,
            "--subprotocol {name}: a subprotocol is offered in a WebSocket handshake; add --protocol websocket"
        );
        anyhow::ensure!(
            !name.is_empty() && name.bytes().all(is_tchar),
            "--subprotocol {name:?}: a subprotocol is one token (RFC 6455 §4.1: letters, digits and !#$%&'*+-.^_`|~)"
        );
    }
    let (endpoint_text, tls_scheme, path) = split(text);
    let endpoint = Endpoint::parse(endpoint_text).with_context(|| what.to_string())?;
    let wants_tls = args.tls || tls_scheme || args.ca.is_some() || args.insecure;
    let tls = if wants_tls {
        let options = TlsClientOptions {
            ca: args.ca.clone(),
            insecure: args.insecure,
            sni: args.sni.clone(),
        };
        Some(ClientTls::new(&options, &endpoint).with_context(|| format!("{what} TLS"))?)
    } else {
        None
    };
    let address = rt
        .block_on(black_box::preflight(&endpoint, tls.as_ref(), timeout))
        .with_context(|| format!("{what} {text}"))?;
    if !address.is_local() {
        eprintln!(
            "hijack-harness: {what} {endpoint} is {address}, not on this machine: segment cuts are best effort"
        );
    }
    let mut target = ServerTarget::server(&endpoint, address, tls, protocol);
    target.path = args.path.clone().or(path.map(str::to_string));
    target.headers = args
        .headers
        .iter()
        .map(|h| header(h))
        .collect::<anyhow::Result<_>>()?;
    target.subprotocol = args.subprotocol.clone();
    if let Some(name) = &args.name {
        target.name = name.clone();
    }
    Ok(target)
}

/// Whether `b` may be part of a token (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// One `--header 'Name: value'`, checked: a token name, a value without line
/// breaks, and not a field the harness writes itself.
fn header(text: &str) -> anyhow::Result<Header> {
    let Some((name, value)) = text.split_once(':') else {
        anyhow::bail!("--header {text:?}: expected 'Name: value'");
    };
    anyhow::ensure!(
        !name.is_empty() && name.bytes().all(is_tchar),
        "--header {text:?}: {name:?} is not a field name (a token: letters, digits and !#$%&'*+-.^_`|~, no spaces)"
    );
    let value = value.trim();
    anyhow::ensure!(
        !value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0),
        "--header {text:?}: a field value has no line breaks"
    );
    anyhow::ensure!(
        !black_box::HARNESS_FIELDS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(name)),
        "--header {name}: the harness writes this field itself (each case's framing and hand-over depend on it){}",
        if name.eq_ignore_ascii_case("sec-websocket-protocol") {
            "; use --subprotocol NAME"
        } else {
            ""
        }
    );
    Ok(Header::new(name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_checked() {
        let h = header("Origin:  http://localhost ").expect("a header");
        assert_eq!(
            (h.name.as_str(), h.value.as_str()),
            ("Origin", "http://localhost")
        );
        assert!(header("Authorization: Bearer a:b").is_ok());
        for bad in [
            "Origin",
            "Bad Name: x",
            ": x",
            "Host: x",
            "upgrade: h2c",
            "X: a\r\nB: c",
        ] {
            assert!(header(bad).is_err(), "{bad}");
        }
        let e = header("Sec-WebSocket-Protocol: chat")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--subprotocol"), "{e}");
    }

    #[test]
    fn tls_schemes_are_split_off_with_their_path() {
        assert_eq!(split("127.0.0.1:80"), ("127.0.0.1:80", false, None));
        assert_eq!(split("unix:/x.sock"), ("unix:/x.sock", false, None));
        assert_eq!(split("tls://app:2376"), ("app:2376", true, None));
        assert_eq!(split("https://app:443/"), ("app:443", true, None));
        assert_eq!(
            split("wss://localhost:8443/ws?x=1"),
            ("localhost:8443", true, Some("/ws?x=1"))
        );
    }
}
