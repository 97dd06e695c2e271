//! The report as JSON, for scripts and dashboards.
//!
//! The shape is a contract, so it is written down twice: as a table in the
//! book (`docs/src/reports.md`, "JSON") and as a JSON Schema in `docs/report.schema.json` that the
//! tests validate every produced report against, with `additionalProperties:
//! false` everywhere so that a field added here without documenting it fails too.
//! A consumer checks `schema_version`: it grows by one whenever a field is
//! removed or changes meaning; adding a field does not bump it.
//!
//! The types here mirror [`RunReport`] instead of deriving `Serialize` on it, so
//! that renaming a Rust field can never silently rename a JSON field.

use std::path::Path;

use serde::Serialize;

use crate::results::{CaseResult, MutantResult, RunReport, Totals, TransportInfo};
use crate::wire::{Closing, Direction, Event, Side, Trace};

/// The version of the JSON shape written by [`write()`].
pub const SCHEMA_VERSION: u32 = 1;

/// How many bytes of each segment an event's `hex` holds (`len` is the full
/// size). The events are there to locate a problem, and the text trace and the
/// pcap in `--traces` hold everything; without a cap, one run of the suite
/// against the mutants writes megabytes of hex.
pub const HEX_BYTES: usize = 1024;

/// Writes `report` as pretty-printed JSON to `path`.
pub fn write(report: &RunReport, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, render(report))
}

/// The report as pretty-printed JSON (what [`write()`] writes).
pub fn render(report: &RunReport) -> String {
    let doc = Document::from(report);
    // Serializing plain structs of strings and numbers to a String cannot fail:
    // there are no maps with non-string keys and no fallible `Serialize` impls.
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
        serde_json::json!({ "schema_version": SCHEMA_VERSION, "serialization_error": e.to_string() })
            .to_string()
    });
    out.push('\n');
    out
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    duration_ms: f64,
    totals: JsonTotals,
    /// Only for black-box server and proxy runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    transport: Option<JsonTransport<'a>>,
    results: Vec<JsonResult<'a>>,
    mutants: Vec<JsonMutant<'a>>,
}

#[derive(Serialize)]
struct JsonTransport<'a> {
    address: &'a str,
    local: bool,
    tls: Option<&'a str>,
    notes: Vec<String>,
}

impl<'a> From<&'a TransportInfo> for JsonTransport<'a> {
    fn from(t: &'a TransportInfo) -> Self {
        JsonTransport {
            address: &t.address,
            local: t.local,
            tls: t.tls.as_deref(),
            // The address is a field already; the rest is what it means.
            notes: t.sentences().into_iter().skip(1).collect(),
        }
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonTotals {
    cases: usize,
    pass: usize,
    fail: usize,
    non_strict: usize,
    unsupported: usize,
    error: usize,
    flaky: usize,
}

impl From<Totals> for JsonTotals {
    fn from(t: Totals) -> Self {
        JsonTotals {
            cases: t.cases,
            pass: t.pass,
            fail: t.fail,
            non_strict: t.non_strict,
            unsupported: t.unsupported,
            error: t.error,
            flaky: t.flaky,
        }
    }
}

#[derive(Serialize)]
struct JsonResult<'a> {
    id: &'a str,
    title: &'a str,
    level: &'static str,
    spec: &'a str,
    bug: Option<&'a str>,
    target: &'a str,
    side: &'static str,
    outcome: &'static str,
    violations: Vec<JsonViolation<'a>>,
    notes: &'a [String],
    duration_ms: f64,
    /// With `--repeat N`: how many repetitions had each outcome.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    repeats: Vec<JsonRepeat>,
    trace: JsonTrace,
    /// A proxy case's upstream legs (the trace above is its client leg).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    legs: Vec<JsonLeg<'a>>,
}

/// A further connection of a case: a proxy's upstream leg.
#[derive(Serialize)]
struct JsonLeg<'a> {
    label: &'a str,
    trace: JsonTrace,
}

#[derive(Serialize)]
struct JsonRepeat {
    outcome: &'static str,
    runs: usize,
}

#[derive(Serialize)]
struct JsonViolation<'a> {
    point: u8,
    point_title: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonTrace {
    client_to_server: JsonDirection,
    server_to_client: JsonDirection,
    hijacked: Vec<&'static str>,
    /// Every event, only for results that are a problem (see [`Outcome::is_problem`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<Vec<JsonEvent>>,
}

#[derive(Serialize)]
struct JsonDirection {
    segments: usize,
    bytes: usize,
    fin: Option<&'static str>,
    reset: bool,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum JsonEvent {
    Segment {
        dir: String,
        index: usize,
        len: usize,
        hex: String,
    },
    Fin {
        dir: String,
        how: &'static str,
    },
    Reset {
        dir: String,
    },
    Hijack {
        side: &'static str,
    },
    AppShutdown {
        side: &'static str,
    },
    AppEnd {
        side: &'static str,
    },
}

#[derive(Serialize)]
struct JsonMutant<'a> {
    name: &'a str,
    caught: bool,
    detail: &'a str,
}

fn side(side: Side) -> &'static str {
    match side {
        Side::Client => "client",
        Side::Server => "server",
    }
}

fn closing(how: Closing) -> &'static str {
    match how {
        Closing::Shutdown => "shutdown",
        Closing::Dropped => "dropped",
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

fn direction(trace: &Trace, dir: Direction) -> JsonDirection {
    JsonDirection {
        segments: trace.segments(dir).count(),
        bytes: trace.segments(dir).map(|b| b.len()).sum(),
        fin: trace.fin(dir).map(|(_, how)| closing(how)),
        reset: trace
            .events
            .iter()
            .any(|e| matches!(e, Event::Reset { dir: d } if *d == dir)),
    }
}

fn event(event: &Event) -> JsonEvent {
    match event {
        Event::Segment { dir, index, bytes } => JsonEvent::Segment {
            dir: dir.to_string(),
            index: *index,
            len: bytes.len(),
            hex: hex(&bytes[..bytes.len().min(HEX_BYTES)]),
        },
        Event::Fin { dir, how } => JsonEvent::Fin {
            dir: dir.to_string(),
            how: closing(*how),
        },
        Event::Reset { dir } => JsonEvent::Reset {
            dir: dir.to_string(),
        },
        Event::Hijack { side: s } => JsonEvent::Hijack { side: side(*s) },
        Event::AppShutdown { side: s } => JsonEvent::AppShutdown { side: side(*s) },
        Event::AppEnd { side: s } => JsonEvent::AppEnd { side: side(*s) },
    }
}

fn millis(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl<'a> From<&'a CaseResult> for JsonResult<'a> {
    fn from(r: &'a CaseResult) -> Self {
        let trace = &r.trace;
        JsonResult {
            id: &r.case_id,
            title: &r.title,
            level: r.level.as_str(),
            spec: &r.spec,
            bug: (!r.bug.is_empty()).then_some(r.bug.as_str()),
            target: &r.target,
            side: side(r.side),
            outcome: r.outcome.as_str(),
            violations: r
                .violations
                .iter()
                .map(|v| JsonViolation {
                    point: v.point.number(),
                    point_title: v.point.title(),
                    message: &v.message,
                })
                .collect(),
            notes: &r.notes,
            duration_ms: millis(r.duration),
            repeats: r
                .repeats
                .iter()
                .map(|(o, n)| JsonRepeat {
                    outcome: o.as_str(),
                    runs: *n,
                })
                .collect(),
            trace: json_trace(trace, r.outcome.is_problem()),
            legs: r
                .legs
                .iter()
                .map(|leg| JsonLeg {
                    label: &leg.label,
                    trace: json_trace(&leg.trace, r.outcome.is_problem()),
                })
                .collect(),
        }
    }
}

/// One trace's summary, with its events when the result is a problem.
fn json_trace(trace: &Trace, problem: bool) -> JsonTrace {
    JsonTrace {
        client_to_server: direction(trace, Direction::ClientToServer),
        server_to_client: direction(trace, Direction::ServerToClient),
        hijacked: [Side::Client, Side::Server]
            .into_iter()
            .filter(|s| trace.hijack(*s).is_some())
            .map(side)
            .collect(),
        events: problem.then(|| trace.events.iter().map(event).collect()),
    }
}

impl<'a> From<&'a MutantResult> for JsonMutant<'a> {
    fn from(m: &'a MutantResult) -> Self {
        JsonMutant {
            name: &m.name,
            caught: m.caught,
            detail: &m.detail,
        }
    }
}

impl<'a> From<&'a RunReport> for Document<'a> {
    fn from(report: &'a RunReport) -> Self {
        Document {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
            },
            duration_ms: millis(report.duration),
            totals: report.totals().into(),
            transport: report.transport.as_ref().map(JsonTransport::from),
            results: report.results.iter().map(JsonResult::from).collect(),
            mutants: report.mutants.iter().map(JsonMutant::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Outcome;

    #[test]
    fn hex_is_lowercase_pairs() {
        assert_eq!(hex(b"\x00\xffA"), "00ff41");
    }

    #[test]
    fn outcome_names_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
    }
}
