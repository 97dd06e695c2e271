//! The reference's errors: each says what the peer did, in the peer's terms.

use std::io;

/// Why the reference could not read, answer or hand over a connection.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The transport failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The peer closed the connection in the middle of a message.
    #[error("the peer closed the connection {0}")]
    UnexpectedEof(&'static str),
    /// A head or body did not parse.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being parsed ("request head", "chunk size line", ...).
        what: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// A head grew past the configured limit before it ended.
    #[error("the head is larger than the limit of {limit} bytes")]
    HeadTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// A head carried more header fields than the parser takes.
    #[error("the head has more than {limit} header fields")]
    TooManyHeaders {
        /// The limit in force.
        limit: usize,
    },
    /// The peer did not finish a head within the configured time.
    #[error("the peer did not finish the head within {0:?}")]
    HeadTimeout(std::time::Duration),
    /// A hijack was asked for, but the exchange did not switch protocols.
    #[error(
        "not upgraded: the answer was {status}, and only 101 (or a 2xx to CONNECT) hands the connection over"
    )]
    NotUpgraded {
        /// The status of the final response.
        status: u16,
    },
    /// A hand-over was asked for while more of the request body was unread than the
    /// server discards: the new protocol starts after the body, and those bytes
    /// must never reach it.
    #[error(
        "not handed over: more than {limit} bytes of the request body are unread, past the discard limit; \
         the new protocol starts after the body, so read the body first (or raise max_discard)"
    )]
    UnreadBodyTooLarge {
        /// The discard limit in force.
        limit: usize,
    },
    /// A hijack was asked for before any response was written or read.
    #[error("no response yet: a connection is handed over only after a response head")]
    NoResponse,
    /// Nothing accepted the TCP connection.
    #[error("nothing is listening on {addr} (connection refused): is the server running?")]
    ConnectionRefused {
        /// The address that refused.
        addr: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// The status a server answers this error with before closing, if it is the
    /// client's fault: `400`, `408` or `431` (RFC 9110 §15.5, RFC 6585 §5).
    pub fn status(&self) -> Option<(u16, &'static str)> {
        match self {
            Error::Malformed { .. } => Some((400, "Bad Request")),
            Error::HeadTimeout(_) => Some((408, "Request Timeout")),
            Error::HeadTooLarge { .. } | Error::TooManyHeaders { .. } => {
                Some((431, "Request Header Fields Too Large"))
            }
            _ => None,
        }
    }
}

/// The reference's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
