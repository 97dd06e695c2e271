//! `connect`: a `CONNECT` proxy under test. The request asks for the harness's
//! own upstream (a raw echo server), so everything the verdict sees beyond the
//! proxy is known to be right, and a fault is the proxy's own.

use crate::oracle::black_box::Expect;

use super::request::{self, Request};

/// `CONNECT authority`; any `2xx` switches (RFC 9110 §9.3.6).
pub(super) fn request(authority: &str) -> Request {
    Request {
        head: request::head("CONNECT", authority.to_string()),
        expect: Expect::Connect,
    }
}
