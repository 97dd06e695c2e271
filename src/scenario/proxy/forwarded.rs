//! Reading the request a proxy forwarded, whatever its version: the
//! upstream's and the oracle's view of the upstream leg.
//!
//! RFC 9112 §2.3: "Intermediaries that process HTTP messages (i.e., all
//! intermediaries other than those acting as tunnels) MUST send their own
//! HTTP-version in forwarded messages", so a forwarded request is HTTP/1.1; one
//! that still says `HTTP/1.0`
//! (the client's version passed on) is read all the same, with its fields as
//! sent (an `Upgrade` included), so that the judge sees what crossed instead
//! of "no request".

use crate::reference::Result;
use crate::reference::head::{self, RequestHead};

use super::Version;

/// The request message at the start of `buf`, once it is all there: its head
/// (fields as sent), its length, and the version its request line names.
pub fn forwarded_request(buf: &[u8]) -> Result<Option<(RequestHead, usize, Version)>> {
    let line_end = buf.windows(2).position(|w| w == b"\r\n");
    let http10 = line_end.is_some_and(|end| buf[..end].ends_with(b" HTTP/1.0"));
    let Some(end) = line_end.filter(|_| http10) else {
        return Ok(head::request_message_len(buf)?.map(|(h, len)| (h, len, Version::Http11)));
    };
    // Framing is the same in both versions: read it as HTTP/1.1, fields untouched.
    let mut as11 = buf.to_vec();
    as11[end - 1] = b'1';
    Ok(head::request_message_len(&as11)?.map(|(h, len)| (h, len, Version::Http10)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http10_request_is_read_with_its_upgrade() {
        let raw = b"GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nrest";
        let (head, len, version) = forwarded_request(raw).unwrap().unwrap();
        assert_eq!((len, version), (raw.len() - 4, Version::Http10));
        assert!(head.wants_upgrade());
        let raw11 = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let (_, len, version) = forwarded_request(raw11).unwrap().unwrap();
        assert_eq!((len, version), (raw11.len(), Version::Http11));
        assert!(
            forwarded_request(b"GET / HTTP/1.0\r\nHost")
                .unwrap()
                .is_none()
        );
        assert!(forwarded_request(b"\0raw\r\n\r\n").is_err());
    }
}
