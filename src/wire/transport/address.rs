//! A concrete place to connect to or listen on: one socket address or one
//! socket path, what an [`Endpoint`](super::Endpoint) resolves to.
//!
//! Whether the address is *on this machine* matters to the verdicts: segment
//! cuts are exact only when no router, NIC offload or middlebox sits between
//! the harness and the peer. A Unix socket, a loopback address, or an address
//! of one of this machine's own interfaces is local; anything else is not.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// One resolved address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// A TCP socket address.
    Tcp(SocketAddr),
    /// A Unix stream socket at this path.
    Unix(PathBuf),
}

impl Address {
    /// Whether the peer at this address runs on this machine (a Unix socket, a
    /// loopback address, or an address of a local interface), so that segment
    /// boundaries travel as the harness made them.
    pub fn is_local(&self) -> bool {
        match self {
            Address::Unix(_) => true,
            Address::Tcp(addr) => is_local_ip(addr.ip()),
        }
    }

    /// The noun for what listens here, for error messages: Unix sockets are
    /// usually daemons' (Docker's, containerd's), TCP ports servers'.
    pub(crate) fn listener_noun(&self) -> &'static str {
        match self {
            Address::Unix(_) => "daemon",
            Address::Tcp(_) => "server",
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp(addr) => write!(f, "{addr}"),
            Address::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Whether `ip` is this machine's: loopback, unspecified (which the kernel
/// routes to this host), or assigned to one of its interfaces.
///
/// The last test binds a UDP socket to the address with port 0: the kernel
/// accepts that only for an address of a local interface. Nothing is sent.
fn is_local_ip(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    if ip.is_loopback() || ip.is_unspecified() {
        return true;
    }
    std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(text: &str) -> Address {
        Address::Tcp(text.parse().expect("a socket address"))
    }

    #[test]
    fn loopback_and_unix_are_local() {
        assert!(tcp("127.0.0.1:80").is_local());
        assert!(tcp("127.0.0.2:80").is_local());
        assert!(tcp("[::1]:80").is_local());
        assert!(tcp("[::ffff:127.0.0.1]:80").is_local());
        assert!(Address::Unix("/var/run/docker.sock".into()).is_local());
    }

    #[test]
    fn documentation_addresses_are_not_local() {
        // TEST-NET-1 and the IPv6 documentation prefix are never assigned to a
        // machine; the check binds (sends nothing) and must refuse them.
        assert!(!tcp("192.0.2.1:80").is_local());
        assert!(!tcp("[2001:db8::1]:80").is_local());
    }

    #[test]
    fn display_is_what_a_user_types() {
        assert_eq!(tcp("[::1]:8080").to_string(), "[::1]:8080");
        assert_eq!(
            Address::Unix("/var/run/docker.sock".into()).to_string(),
            "unix:/var/run/docker.sock"
        );
    }
}
