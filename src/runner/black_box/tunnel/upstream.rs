//! The harness's own upstream behind a proxy under test, on a thread and a
//! runtime of its own: a real upstream answers while the client is busy, and
//! one sharing the client's single-threaded runtime could not (it would run
//! only when the scripted client waits, which changes what the proxy sees).
//!
//! A real proxy's configuration names one upstream port, so the echo suite and
//! the `tunnel.*` cases share this one listener. While a tunnel case runs (one
//! at a time: [`super::super::super::target::one_at_a_time`]) its [`Session`]
//! sits in the [`Slot`], and every connection the proxy opens goes to it (the
//! first to the case's scripted upstream, any further one to a small `200`);
//! otherwise the connection gets the echo server of the run's protocol
//! ([`crate::runner::serve`]).

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::{TcpListener, TcpStream};

use super::session::Session;
use crate::runner::serve::{self, ServeOptions};
use crate::suite::Proto;

/// Where the running tunnel case's session waits for the proxy's connections.
///
/// Opening a session also ends every connection the echo server still holds:
/// they belong to cases that are over, and a proxy that pools its upstream
/// connections would otherwise send the tunnel case's request on one of them,
/// to the echo server instead of the case's scripted upstream.
#[derive(Debug)]
pub struct Slot {
    session: Mutex<Option<Arc<Session>>>,
    opened: tokio::sync::watch::Sender<u64>,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            session: Mutex::new(None),
            opened: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, Option<Arc<Session>>> {
        self.session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Routes the connections that come from now on to `session`, and ends
    /// the echo server's.
    pub(super) fn open(&self, session: Arc<Session>) {
        *self.lock() = Some(session);
        self.opened.send_modify(|n| *n += 1);
    }

    /// Routes the connections that come from now on to the echo server again.
    pub(super) fn close(&self) {
        *self.lock() = None;
    }

    /// The session a new connection belongs to, with the connection already
    /// counted in it (under the lock, so that a session closed after this
    /// call still waits for the connection: [`Session::stop`]).
    fn route(&self, stream: TcpStream) -> Result<(), TcpStream> {
        match &*self.lock() {
            Some(session) => {
                session.clone().accept(stream);
                Ok(())
            }
            None => Err(stream),
        }
    }
}

/// The harness's upstream: the echo server of one protocol, and the scripted
/// upstream of whichever tunnel case is running.
#[derive(Debug)]
pub struct HarnessUpstream {
    address: SocketAddr,
    slot: Arc<Slot>,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl HarnessUpstream {
    /// Serves `listener` on a thread of its own: `protocol`'s echo server
    /// (`Connect`: a raw echo), and the tunnel cases' scripted upstream.
    pub fn start(listener: std::net::TcpListener, protocol: Proto) -> io::Result<HarnessUpstream> {
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let slot = Arc::new(Slot::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = slot.clone();
        let thread = std::thread::spawn(move || {
            // The scripted upstream's tasks are not `Send`: they run on this thread.
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                tokio::select! {
                    () = accept_loop(listener, protocol, &serving) => {}
                    _ = stopped => {}
                }
            });
        });
        Ok(HarnessUpstream {
            address,
            slot,
            stop,
            thread,
        })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The slot the tunnel cases put their session in.
    pub fn slot(&self) -> Arc<Slot> {
        self.slot.clone()
    }

    /// Stops serving and waits for the thread.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

async fn accept_loop(listener: TcpListener, protocol: Proto, slot: &Slot) {
    let options = Arc::new(ServeOptions::new(protocol));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "upstream: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if let Err(stream) = slot.route(stream) {
            let options = options.clone();
            let mut opened = slot.opened.subscribe();
            tokio::task::spawn_local(async move {
                let serving = async {
                    match options.protocol {
                        Proto::Connect => serve::raw_echo(stream).await.map_err(|e| e.to_string()),
                        _ => serve::serve_conn(stream, &options).await,
                    }
                };
                tokio::select! {
                    result = serving => if let Err(e) = result {
                        tracing::debug!(error = %e, "upstream connection ended with an error");
                    },
                    _ = opened.changed() => {}
                }
            });
        }
    }
}
