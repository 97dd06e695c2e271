//! Where a peer is, as a user types it: `HOST:PORT` with any host name or
//! address (IPv6 in brackets), `tcp://HOST:PORT`, `unix:PATH`, or `unix://PATH`
//! (the form of `DOCKER_HOST`, so `unix:///var/run/docker.sock` works as is).
//!
//! An endpoint is only text until it is resolved. [`Endpoint::resolve`] does
//! that once, for a whole run: it looks the name up and keeps the first address
//! that accepts a connection, so `localhost` works whether the server listens on
//! `127.0.0.1` or `::1`, and every case of the run then talks to the same socket.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use super::{Address, TransportError};

/// A parsed, not yet resolved, place to connect to or listen on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A TCP host (a name or an address literal) and port.
    Tcp {
        /// The host as typed, without brackets.
        host: String,
        /// The port.
        port: u16,
    },
    /// A Unix stream socket.
    Unix(PathBuf),
}

impl Endpoint {
    /// Parses what a user typed.
    pub fn parse(input: &str) -> Result<Endpoint, TransportError> {
        let fail = |reason: &str| TransportError::Parse {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let text = input.trim();
        if let Some(path) = text
            .strip_prefix("unix://")
            .or_else(|| text.strip_prefix("unix:"))
        {
            if path.is_empty() {
                return Err(fail("the socket path is empty"));
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        let text = text.strip_prefix("tcp://").unwrap_or(text);
        let text = text.strip_suffix('/').unwrap_or(text);
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(fail(&format!(
                "{scheme}:// is not a transport here: give the host and port (add --tls for https or wss)"
            )));
        }
        let (host, port) = split_host_port(text).map_err(|why| fail(&why))?;
        Ok(Endpoint::Tcp { host, port })
    }

    /// The host name or address, for TLS's server name; `None` for Unix sockets.
    pub fn host(&self) -> Option<&str> {
        match self {
            Endpoint::Tcp { host, .. } => Some(host),
            Endpoint::Unix(_) => None,
        }
    }

    /// Every address the endpoint names, in the resolver's order, without
    /// connecting: what a listener binds to.
    pub async fn lookup(&self) -> Result<Vec<Address>, TransportError> {
        let (host, port) = match self {
            Endpoint::Unix(path) => return Ok(vec![Address::Unix(path.clone())]),
            Endpoint::Tcp { host, port } => (host.as_str(), *port),
        };
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![Address::Tcp(SocketAddr::new(ip, port))]);
        }
        let found: Vec<Address> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| TransportError::Resolve {
                host: host.to_string(),
                reason: e.to_string(),
            })?
            .map(Address::Tcp)
            .collect();
        if found.is_empty() {
            return Err(TransportError::Resolve {
                host: host.to_string(),
                reason: "no address".into(),
            });
        }
        Ok(found)
    }
}

/// Splits `HOST:PORT` or `[V6]:PORT`.
fn split_host_port(text: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("an opening '[' without its ']'")?;
        let port = after
            .strip_prefix(':')
            .ok_or("the port is missing after ']'")?;
        host.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("{host:?} in brackets is not an IPv6 address"))?;
        (host, port)
    } else {
        let (host, port) = text.rsplit_once(':').ok_or("the port is missing")?;
        if host.contains(':') {
            return Err("an IPv6 address goes in brackets, as in [::1]:8080".into());
        }
        (host, port)
    };
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '%'))
    {
        return Err(format!("{host:?} is not a host name or address"));
    }
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("{port:?} is not a port number (0 to 65535)"))?;
    Ok((host.to_string(), port))
}

impl FromStr for Endpoint {
    type Err = TransportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Endpoint::parse(s)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "{host}:{port}"),
            Endpoint::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn tcp(host: &str, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn every_form_a_user_types_parses() {
        let cases = [
            ("127.0.0.1:8080", tcp("127.0.0.1", 8080)),
            ("localhost:80", tcp("localhost", 80)),
            ("app:8080", tcp("app", 8080)),
            ("[::1]:443", tcp("::1", 443)),
            ("tcp://10.1.2.3:2376", tcp("10.1.2.3", 2376)),
            ("tcp://docker:2375/", tcp("docker", 2375)),
            (
                "unix:/var/run/docker.sock",
                Endpoint::Unix("/var/run/docker.sock".into()),
            ),
            (
                "unix:///var/run/docker.sock",
                Endpoint::Unix("/var/run/docker.sock".into()),
            ),
            ("unix:relative.sock", Endpoint::Unix("relative.sock".into())),
        ];
        for (text, want) in cases {
            assert_eq!(Endpoint::parse(text).expect(text), want, "{text}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["127.0.0.1:8080", "[::1]:443", "app:80", "unix:/run/x.sock"] {
            let endpoint = Endpoint::parse(text).expect(text);
            assert_eq!(endpoint.to_string(), text);
            assert_eq!(
                Endpoint::parse(&endpoint.to_string()).expect(text),
                endpoint
            );
        }
    }

    #[test]
    fn mistakes_get_a_reason() {
        let cases = [
            ("8080", "the port is missing"),
            ("::1:8080", "brackets"),
            ("[::1:8080", "without its ']'"),
            ("[nope]:80", "not an IPv6 address"),
            ("host:http", "not a port number"),
            ("host:70000", "not a port number"),
            (":80", "the host is empty"),
            ("unix:", "the socket path is empty"),
            ("https://example.com:443", "add --tls"),
            ("a b:80", "not a host name"),
        ];
        for (text, reason) in cases {
            let err = Endpoint::parse(text).expect_err(text).to_string();
            assert!(err.contains(reason), "{text}: {err}");
            assert!(err.contains("unix://PATH"), "{text}: {err}");
        }
    }

    #[tokio::test]
    async fn localhost_resolves_to_whichever_loopback_address_listens() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let address = tcp("localhost", port)
            .resolve(Duration::from_secs(2))
            .await
            .expect("localhost resolves to a listening address");
        assert_eq!(address, Address::Tcp(([127, 0, 0, 1], port).into()));
    }

    #[test]
    fn an_unknown_name_says_it_does_not_resolve() {
        // Formatted, not looked up: a lookup of an unknown name would ask the
        // machine's DNS server, and tests send nothing beyond loopback.
        let err = TransportError::Resolve {
            host: "app".into(),
            reason: "failed to lookup address information".into(),
        };
        assert_eq!(
            err.to_string(),
            "the name \"app\" does not resolve: failed to lookup address information"
        );
    }
}
