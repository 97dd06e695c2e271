//! The last bytes of a half-close case and the FIN in one TCP segment.
//!
//! "FIN follows data at once" must mean the same thing in every run. Written and
//! shut down back to back, the data and the FIN still leave in two segments, and
//! a proxy that ends the tunnel on the client's FIN (nginx does, as RFC 9110
//! §9.3.6 allows) then sometimes reads them in one wake-up (and drops the echo
//! in flight) and sometimes in two (and the echo gets through): the verdict
//! flipped between identical runs. With `TCP_CORK` held across the write and the
//! shutdown, Linux sends the data with the FIN in one segment, and the peer sees
//! both together every time.
//!
//! Where `TCP_CORK` does not exist this does nothing.

use tokio::net::TcpStream;

/// A handle on a connection's socket for setting `TCP_CORK` (a duplicate of
/// its descriptor: the stream itself is wrapped by then).
pub(super) struct Cork(Option<std::net::TcpStream>);

impl Cork {
    /// The cork of `stream` (a no-op when the descriptor cannot be duplicated).
    #[cfg(target_os = "linux")]
    pub fn of(stream: &TcpStream) -> Cork {
        use std::os::fd::AsFd;
        Cork(
            stream
                .as_fd()
                .try_clone_to_owned()
                .ok()
                .map(std::net::TcpStream::from),
        )
    }

    /// The cork of `stream`: nothing to do off Linux.
    #[cfg(not(target_os = "linux"))]
    pub fn of(_stream: &TcpStream) -> Cork {
        Cork(None)
    }

    /// Holds (`true`) or releases (`false`) partial segments.
    pub fn set(&self, on: bool) {
        #[cfg(target_os = "linux")]
        if let Some(socket) = &self.0 {
            // Best effort: without the cork the case still runs, only less exactly.
            let _ = socket2::SockRef::from(socket).set_cork(on);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = on;
    }
}
