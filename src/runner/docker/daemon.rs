//! The stub daemon's state for one case, shared by every connection a client
//! opens: the container's life (running until its attach stream ends), the exec
//! instance's settings, and the log of what each connection carried.
//!
//! A client opens several connections per command (the Docker CLI: one for
//! `_ping` and the wait long poll, one for inspect, one for the attach), so the
//! judgement needs to know which connection was handed over and where, in that
//! connection's byte streams, the new protocol starts: [`Handover`] says so.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, watch};

use crate::oracle::docker::Handover;
use crate::suite::Case;
use crate::suite::attach::Attach;
use crate::wire::Recorder;
use crate::wire::tcp::Capture;

/// One connection's log.
#[derive(Debug, Clone)]
pub struct ConnectionLog {
    /// Its trace (the stub's end, recorded).
    pub recorder: Recorder,
    /// Each request's method and target, with the status answered.
    pub requests: Vec<String>,
}

#[derive(Debug, Default)]
struct State {
    connections: Vec<ConnectionLog>,
    handover: Option<Handover>,
    exec: Option<(bool, bool)>,
    created_tty: Option<bool>,
    stdin_received: usize,
    failures: Vec<String>,
}

/// The daemon of one case.
#[derive(Debug)]
pub struct Daemon {
    /// The case it plays.
    pub case: Arc<Case<Attach>>,
    /// Bounded storage and activity of every connection, together.
    pub capture: Arc<Capture>,
    /// The pause at each cut point of the output.
    pub pause: std::time::Duration,
    state: Mutex<State>,
    exited: watch::Sender<bool>,
    /// Woken when the stub answered the hijack request (101 or refusal).
    pub handed_over: Notify,
    /// Woken when the stub has read every byte of the case's stdin, or EOF.
    pub stdin_done: Notify,
}

impl Daemon {
    /// A daemon whose container is running and attached to nothing.
    pub fn new(
        case: Arc<Case<Attach>>,
        capture: Arc<Capture>,
        pause: std::time::Duration,
    ) -> Arc<Self> {
        Arc::new(Daemon {
            case,
            capture,
            pause,
            state: Mutex::default(),
            exited: watch::Sender::new(false),
            handed_over: Notify::new(),
            stdin_done: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation is a single assignment or push: a poisoned lock is consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new connection and returns its index and recorder.
    pub fn connection(&self) -> (usize, Recorder) {
        let mut state = self.lock();
        let recorder = Recorder::new();
        state.connections.push(ConnectionLog {
            recorder: recorder.clone(),
            requests: Vec::new(),
        });
        (state.connections.len() - 1, recorder)
    }

    /// Logs a connection that never got to HTTP (a failed TLS handshake).
    pub fn log_failure(&self, why: String) {
        self.lock().failures.push(why);
    }

    /// Every connection that never got to HTTP, and why.
    pub fn failures(&self) -> Vec<String> {
        self.lock().failures.clone()
    }

    /// Logs a request answered on `connection`.
    pub fn log_request(&self, connection: usize, line: String) {
        if let Some(log) = self.lock().connections.get_mut(connection) {
            log.requests.push(line);
        }
    }

    /// Remembers the exec instance's `AttachStdin` and `Tty`.
    pub fn set_exec(&self, attach_stdin: bool, tty: bool) {
        self.lock().exec = Some((attach_stdin, tty));
    }

    /// Remembers the `Tty` of the container a client created (`docker run`).
    pub fn set_created_tty(&self, tty: bool) {
        self.lock().created_tty = Some(tty);
    }

    /// The `Tty` of the container the client created, if it created one.
    pub fn created_tty(&self) -> Option<bool> {
        self.lock().created_tty
    }

    /// The exec instance's `AttachStdin` and `Tty`, once created.
    pub fn exec(&self) -> Option<(bool, bool)> {
        self.lock().exec
    }

    /// Records the first hijack request's answer; later ones are only logged.
    /// Returns whether this one is the case's.
    pub fn hand_over(&self, handover: Handover) -> bool {
        let first = {
            let mut state = self.lock();
            let first = state.handover.is_none();
            if first {
                state.handover = Some(handover);
            }
            first
        };
        if first {
            self.handed_over.notify_one();
        }
        first
    }

    /// The case's hijack, once answered.
    pub fn handover(&self) -> Option<Handover> {
        self.lock().handover.clone()
    }

    /// Counts stdin bytes read on the hijacked stream; wakes the driver once
    /// all of the case's stdin arrived (or at `eof`).
    pub fn stdin_read(&self, n: usize, eof: bool) {
        let total = {
            let mut state = self.lock();
            state.stdin_received += n;
            state.stdin_received
        };
        if eof || (n > 0 && total >= self.case.scenario.stdin.len()) {
            self.stdin_done.notify_one();
        }
    }

    /// The container exits: its wait long polls answer.
    pub fn exit(&self) {
        self.exited.send_replace(true);
    }

    /// Waits until the container has exited.
    pub async fn exited(&self) {
        let mut rx = self.exited.subscribe();
        // An error means the sender is gone: nothing will ever exit, wait forever
        // (the driver ends the case at its time limit).
        if rx.wait_for(|exited| *exited).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Every connection's log, in accept order.
    pub fn connections(&self) -> Vec<ConnectionLog> {
        self.lock().connections.clone()
    }
}
