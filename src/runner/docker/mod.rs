//! Docker clients under test: the `docker` CLI, docker-py, dockerode, bollard,
//! or any program that attaches to a container, judged by what it prints and
//! what it sends.
//!
//! Docker's client hijack is where this project started, but a CLI does not
//! echo: the harness plays the daemon instead. For each case a stub Docker
//! Engine API ([`api`], [`connection`]) answers the command's `_ping`, inspect,
//! wait, exec and attach requests on as many keep-alive connections as it opens;
//! the attach (or exec start) gets `101 UPGRADED` and the case's container
//! output ([`session`]), raw with a TTY or multiplexed
//! ([`crate::stdcopy`]), some of it
//! in the `101`'s segment, split wherever the case says; or a refusal as real
//! daemons send it. The [`driver`] runs the command
//! ([`crate::runner::process`]; its stdin a pseudo-terminal for a TTY case),
//! feeds and closes its stdin, and the oracle ([`crate::oracle::docker`])
//! judges its stdout, stderr and the attach connection's trace.
//!
//! ```text
//! Case<Attach> ─> stub daemon (connection, api, session) <──> client command
//!                         │ trace per connection                      │ stdout, stderr
//!                         └──────────────> oracle::judge <────────────┘ ──> CaseResult
//! ```
//!
//! The entry point is a [`DockerClient`] run through [`crate::runner::target::one_at_a_time`]: a command with `{host}` (or `{addr}`, and
//! `{ca}` over TLS), where to listen
//! ([`crate::runner::client_listener::ClientListener`], shared with the echo
//! contract's client runs), the cases of [`crate::suite::docker::all`], the
//! runner's options, a progress callback. The cases are data, in the suite
//! ([`crate::suite::docker`], each described by [`crate::suite::attach`]).

pub mod api;
pub mod connection;
pub mod daemon;
pub mod driver;
pub mod serve;
pub mod session;

pub use driver::{DockerClient, client_case};
pub use serve::serve;
