//! One run of one tunnel case on the upstream's side: every connection the
//! proxy opens while the case runs, recorded as a leg of its own.
//!
//! The first connection gets the case's scripted upstream
//! ([`crate::peer::proxy::upstream`]) in real time: where the case has the
//! upstream wait before it answers, it waits [`Session::delay`] and reads
//! meanwhile ([`Held`]), so that bytes a proxy forwards before the answer are
//! seen, and recorded, before it. Any further connection (a proxy that parsed
//! the client's next request sends it on a new one) gets a small `200` to each
//! whole request it carries; raw bytes on it are recorded and left unanswered.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::held::Held;
use crate::peer::proxy as peer;
use crate::reference::head;
use crate::scenario::proxy::{ProxyBytes, ProxyScenario};
use crate::wire::tcp::{Capture, Paced, Recording};
use crate::wire::{Direction, Recorder, Trace};

/// The answer to each whole request on a connection after the first.
pub(super) const SMALL_200: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

/// What the upstream side of one tunnel case shares with the case's runner.
#[derive(Debug)]
pub struct Session {
    scenario: ProxyScenario,
    bytes: ProxyBytes,
    /// How long the scripted upstream waits, reading, before it answers.
    delay: Duration,
    /// The pause at each cut of the upstream's own writes.
    pause: Duration,
    /// Activity on every leg, the client's included: quiet means all of them.
    capture: Arc<Capture>,
    legs: Mutex<Vec<Recorder>>,
    live: AtomicUsize,
    stop: watch::Sender<bool>,
}

impl Session {
    /// A session for `scenario`, whose peers write `bytes`.
    pub(super) fn new(
        scenario: ProxyScenario,
        bytes: ProxyBytes,
        delay: Duration,
        pause: Duration,
        capture: Arc<Capture>,
    ) -> Arc<Session> {
        Arc::new(Session {
            scenario,
            bytes,
            delay,
            pause,
            capture,
            legs: Mutex::new(Vec::new()),
            live: AtomicUsize::new(0),
            stop: watch::Sender::new(false),
        })
    }

    fn legs(&self) -> std::sync::MutexGuard<'_, Vec<Recorder>> {
        self.legs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a connection the proxy opened: counts it, and serves it on this
    /// thread's local task set until it ends or the session stops.
    pub(super) fn accept(self: Arc<Self>, stream: TcpStream) {
        let recorder = Recorder::new();
        let index = {
            let mut legs = self.legs();
            legs.push(recorder.clone());
            legs.len() - 1
        };
        self.live.fetch_add(1, Ordering::SeqCst);
        tokio::task::spawn_local(async move {
            let io = Recording::new(
                stream,
                recorder,
                self.capture.clone(),
                Direction::ServerToClient,
                true,
            );
            let mut stopped = self.stop.subscribe();
            let serving = async {
                let result = if index == 0 {
                    self.script(io).await
                } else {
                    answer_requests(io).await
                };
                if let Err(e) = result {
                    tracing::debug!(index, error = %e, "upstream leg ended with an error");
                }
            };
            tokio::select! {
                () = serving => {}
                _ = stopped.wait_for(|stop| *stop) => {}
            }
            self.live.fetch_sub(1, Ordering::SeqCst);
        });
    }

    async fn script(&self, io: Recording<TcpStream>) -> std::io::Result<()> {
        let io = Paced::new(io, self.scenario.upstream_cuts.clone(), self.pause);
        let answered = Rc::new(Cell::new(None));
        peer::upstream(
            Held::new(io, self.delay),
            &self.scenario,
            &self.bytes,
            answered,
        )
        .await
    }

    /// Ends the session: records nothing more on any leg, tells every
    /// connection to stop, waits (at most `grace`) until they have, and
    /// returns each leg's trace, in the order the proxy opened them. The slot
    /// must be closed first, so that no connection joins meanwhile.
    pub(super) async fn stop(&self, grace: Duration) -> Vec<Trace> {
        let legs: Vec<Recorder> = self.legs().clone();
        for leg in &legs {
            leg.seal();
        }
        self.stop.send_replace(true);
        let deadline = tokio::time::Instant::now() + grace;
        while self.live.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        legs.iter().map(Recorder::take).collect()
    }
}

/// Answers each whole request with [`SMALL_200`], until EOF; raw bytes are
/// read (and recorded) but never answered.
async fn answer_requests<IO>(mut io: IO) -> std::io::Result<()>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        while let Ok(Some((_, len))) = head::request_message_len(&pending) {
            if len == 0 {
                break;
            }
            pending.drain(..len);
            io.write_all(SMALL_200).await?;
        }
        let n = io.read(&mut buf).await?;
        if n == 0 {
            return io.shutdown().await;
        }
        pending.extend_from_slice(&buf[..n]);
    }
}
