//! The stub daemon on its own, to poke at by hand (`hijack-harness serve
//! --protocol docker-engine`, over TCP, a Unix socket or TLS): every connection
//! is served as in a case, and every attach or exec start gets the case's
//! container stream anew (a fresh container per hand-over, so the wait long
//! poll of one attach answers when that attach's stream ends).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::connection;
use super::daemon::Daemon;
use crate::suite::Case;
use crate::suite::attach::Attach;
use crate::wire::tcp::{Capture, DEFAULT_CAP};
use crate::wire::transport::{Listener, TransportError};

/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `case` on `listener` until accepting fails (or the task is dropped).
pub async fn serve(
    listener: &Listener,
    case: Case<Attach>,
    pause: Duration,
) -> Result<(), TransportError> {
    let case = Arc::new(case);
    let fresh = || Daemon::new(case.clone(), Capture::new(DEFAULT_CAP), pause);
    let mut daemon = fresh();
    let mut connections = JoinSet::new();
    loop {
        let accepted = listener.accept().await?;
        // Once a stream was handed over (and its container ran), the next
        // client gets a new container; connections already open keep theirs.
        if daemon.handover().is_some() {
            daemon = fresh();
        }
        let daemon = daemon.clone();
        connections.spawn(async move {
            match accepted.establish(HANDSHAKE_TIMEOUT).await {
                Ok(io) => connection::serve(io, daemon).await,
                Err(e) => tracing::info!("{e}"),
            }
        });
        while connections.try_join_next().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::docker as cases;
    use crate::wire::transport::Endpoint;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn every_attach_gets_the_stream_anew() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sock");
        let listener = Listener::bind(&Endpoint::Unix(path.clone()), None)
            .await
            .unwrap();
        let case = cases::tty_early(300);
        let output = case.scenario.output[0].1.clone();
        let server = async { serve(&listener, case, Duration::from_millis(1)).await };
        let clients = async {
            for _ in 0..2 {
                let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
                s.write_all(b"POST /containers/c1/attach?stdin=1&stdout=1&stream=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n").await.unwrap();
                s.shutdown().await.unwrap();
                let mut got = Vec::new();
                s.read_to_end(&mut got).await.unwrap();
                assert!(got.starts_with(b"HTTP/1.1 101 UPGRADED\r\n"));
                assert!(got.ends_with(&output));
            }
        };
        tokio::select! {
            result = server => panic!("the server stopped: {result:?}"),
            () = clients => {}
        }
    }
}
