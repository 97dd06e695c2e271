//! Two socket options that make a case's timing mean the same thing in every run.
//!
//! **`TCP_CORK`: the last bytes of a half-close case and the FIN in one segment.**
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
//! **`TCP_QUICKACK`: no delayed ACK while the client waits for an echo.** A
//! server without `TCP_NODELAY` holds the last small piece of an echo back until
//! its earlier bytes are acknowledged (Nagle), and a receiver delays that ACK by
//! up to 40 ms: the echo would stall longer than the client waits for it, and the
//! client's FIN would go out early. Acknowledging at once removes the stall.
//! Linux clears the option after a while, so it is set again before every read.
//!
//! Where the options do not exist this does nothing: off Linux, and over a
//! Unix socket, which has no segments to cork and no ACKs to delay (a write is
//! in the peer's receive buffer when it returns, and a shutdown right after it
//! is seen with it).

/// A handle on a connection's socket for setting its options (a duplicate of
/// its descriptor: the stream itself is wrapped by then).
pub(super) struct SocketOptions(Option<std::net::TcpStream>);

impl SocketOptions {
    /// The options of a connection's TCP socket (`None`: a Unix socket, or a
    /// descriptor that could not be duplicated; nothing to set).
    pub fn of(socket: Option<std::net::TcpStream>) -> SocketOptions {
        SocketOptions(socket)
    }

    /// Acknowledges what arrives at once, until Linux clears the option again.
    pub fn quick_ack(&self) {
        #[cfg(target_os = "linux")]
        if let Some(socket) = &self.0 {
            // Best effort, as below.
            let _ = socket2::SockRef::from(socket).set_quickack(true);
        }
    }

    /// Holds (`true`) or releases (`false`) partial segments.
    pub fn cork(&self, on: bool) {
        #[cfg(target_os = "linux")]
        if let Some(socket) = &self.0 {
            // Best effort: without the cork the case still runs, only less exactly.
            let _ = socket2::SockRef::from(socket).set_cork(on);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = on;
    }
}
