//! A trace as text: one line per event, readable at a glance and stable under diff.
//!
//! ```text
//! c>s #0   42 "GET /upgrade HTTP/1.1\r\nHost: example.test\r\n..."
//! s>c #0   66 "HTTP/1.1 101 Switching Protocols\r\n..."
//! == server hijacked
//! c>s FIN (shutdown)
//! ```

use std::fmt::Write;

use super::trace::{Closing, Event, Trace};
use crate::oracle::preview;

/// How many bytes of a segment are shown before eliding the rest.
pub const SHOWN: usize = 72;

/// Renders `trace`, one line per event.
pub fn render(trace: &Trace) -> String {
    let mut out = String::new();
    for event in &trace.events {
        let _ = match event {
            Event::Segment { dir, index, bytes } => {
                writeln!(
                    out,
                    "{dir} #{index:<3} {:>6} {}",
                    bytes.len(),
                    preview(bytes, SHOWN)
                )
            }
            Event::Fin { dir, how } => writeln!(
                out,
                "{dir} FIN ({})",
                match how {
                    Closing::Shutdown => "shutdown",
                    Closing::Dropped => "dropped",
                }
            ),
            Event::Reset { dir } => writeln!(out, "{dir} RST"),
            Event::Hijack { side } => writeln!(out, "== {side} hijacked"),
            Event::AppShutdown { side } => writeln!(out, "== {side} app shut down its write half"),
            Event::AppEnd { side } => writeln!(out, "== {side} app done"),
        };
    }
    out
}
