//! hyper in the fuzz targets: its builder options drawn from the input, and the
//! `hyper_server`, `hyper_client` and `differential` targets.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};

use super::bytes::{Reader, read_bool, read_option};
use super::{FAILURE_MARK, crash_report, fail, fail_with};
use crate::check::{self, Run};
use crate::scenario::Scenario;
use crate::subject::hyper::{
    HyperClient, HyperClientOptions, HyperServer, HyperServerOptions, KNOWN_FINDINGS,
    ReadBuf as HyperReadBuf, ServerMode,
};
use crate::subject::reference::{ReferenceClient, ReferenceServer};

/// hyper's `max_buf_size`: its minimum, anything up to 70 000, or 400 KiB (as the
/// `proptest` strategy in `subject::hyper` draws it).
fn read_max_buf_size(r: &mut Reader<'_, '_>) -> arbitrary::Result<usize> {
    Ok(match r.byte()? % 3 {
        0 => 8192,
        1 => 8193 + r.u32()? as usize % (70_000 - 8192),
        _ => 400 * 1024,
    })
}

/// `max_header_size`: above any scenario's head (hyper refuses smaller heads).
fn read_max_header_size(r: &mut Reader<'_, '_>) -> arbitrary::Result<usize> {
    Ok(2048 + usize::from(r.u16()?) % (65_536 - 2048 + 1))
}

/// How many zero bytes [`read_hyper_server`] reads as hyper's defaults (direct mode):
/// a seed for the hyper targets is this many zeros, then a scenario's bytes.
pub const HYPER_SERVER_DEFAULTS: usize = 13;

/// How many zero bytes [`read_hyper_client`] reads as hyper's defaults.
pub const HYPER_CLIENT_DEFAULTS: usize = 10;

/// A hyper server with a mode and builder options drawn from the input. A zero
/// byte is hyper's default, so short inputs test the default configuration.
pub fn read_hyper_server(u: &mut Unstructured<'_>) -> arbitrary::Result<HyperServer> {
    let r = &mut Reader::new(u);
    let mode = ServerMode::ALL[usize::from(r.byte()? % 3)];
    let options = HyperServerOptions {
        half_close: read_bool(r)?,
        // keep_alive defaults to true: a set low bit turns it off.
        keep_alive: !read_bool(r)?,
        title_case_headers: read_bool(r)?,
        preserve_header_case: read_bool(r)?,
        max_headers: read_option(r, |r| Ok(10 + usize::from(r.byte()?) % 191))?,
        max_header_size: read_option(r, read_max_header_size)?,
        writev: read_option(r, read_bool)?,
        max_buf_size: read_option(r, read_max_buf_size)?,
        auto_date_header: !read_bool(r)?,
        pipeline_flush: read_bool(r)?,
        ignore_invalid_headers: read_bool(r)?,
        allow_multiple_spaces: read_bool(r)?,
    };
    Ok(HyperServer { mode, options })
}

/// A hyper client with builder options drawn from the input (zero bytes: defaults).
pub fn read_hyper_client(u: &mut Unstructured<'_>) -> arbitrary::Result<HyperClient> {
    let r = &mut Reader::new(u);
    let read_buf = match r.byte()? % 3 {
        0 => HyperReadBuf::Default,
        // The exact read size is also hyper's largest head: keep it above any
        // scenario's head (512), as the proptest strategy does.
        1 => HyperReadBuf::Exact(match r.byte()? % 4 {
            0 => 512,
            1 => 513 + usize::from(r.u16()?) % (4096 - 512),
            2 => 8192,
            _ => 65_536,
        }),
        _ => HyperReadBuf::Max(read_max_buf_size(r)?),
    };
    let options = HyperClientOptions {
        writev: read_option(r, read_bool)?,
        read_buf,
        title_case_headers: read_bool(r)?,
        preserve_header_case: read_bool(r)?,
        max_headers: read_option(r, |r| Ok(10 + usize::from(r.byte()?) % 191))?,
        max_header_size: read_option(r, read_max_header_size)?,
        http09_responses: read_bool(r)?,
        allow_spaces_after_header_name: read_bool(r)?,
        allow_obsolete_multiline_headers: read_bool(r)?,
        ignore_invalid_headers: read_bool(r)?,
    };
    Ok(HyperClient { options })
}

/// The environment variable that makes [`hyper_server`] hunt one known finding:
/// the filter is off for it, and every other case is skipped, so that the first
/// crash is that finding (`fuzz/detect.sh` times it from an empty corpus).
pub const FINDING_VAR: &str = "HIJACK_FINDING";

/// The `hyper_server` target: hyper's server with drawn options, then a scenario.
/// Known findings ([`HyperServerOptions::known_finding`]) are skipped, unless
/// `HIJACK_FINDING` names one: then only that one runs.
pub fn hyper_server(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(server) = read_hyper_server(&mut u) else {
        return;
    };
    let scenario = Scenario::arbitrary(&mut u).unwrap_or_else(|_| Scenario::basic());
    let finding = server.options.known_finding(&scenario);
    match hunted_finding() {
        // The filter: known findings are skipped, new failures are crashes.
        None if finding.is_some() => return,
        // Hunting one finding: only its cases run, so a crash is that finding.
        Some(hunted) if finding != Some(hunted) => return,
        _ => {}
    }
    let run = check::run_server(&server, &scenario);
    if !run.passed() {
        fail_with(&run, &format!("{:?} known finding: {finding:?}", server));
    }
}

/// The known finding `HIJACK_FINDING` names (read once), for `fuzz/detect.sh`.
///
/// # Panics
///
/// When it names no known finding.
fn hunted_finding() -> Option<&'static str> {
    static HUNTED: OnceLock<Option<&'static str>> = OnceLock::new();
    *HUNTED.get_or_init(|| {
        let name = std::env::var(FINDING_VAR).ok().filter(|n| !n.is_empty())?;
        let name = name.replace('-', "_");
        match KNOWN_FINDINGS.iter().find(|&&known| known == name) {
            Some(&known) => Some(known),
            None => {
                panic!("{FINDING_VAR}={name} names no known finding; known: {KNOWN_FINDINGS:?}")
            }
        }
    })
}

/// The `hyper_client` target: hyper's client with drawn options, then a scenario.
pub fn hyper_client(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(client) = read_hyper_client(&mut u) else {
        return;
    };
    let scenario = Scenario::arbitrary(&mut u).unwrap_or_else(|_| Scenario::basic());
    let run = check::run_client(&client, &scenario);
    if !run.passed() {
        fail_with(&run, &format!("{:?}", client));
    }
}

/// What the application saw, which two conformant libraries must agree on.
#[derive(Debug, PartialEq, Eq)]
struct Seen<'a> {
    hijacked: bool,
    requests: &'a [(String, bytes::Bytes)],
    read: &'a [u8],
    saw_eof: bool,
    response_status: Option<u16>,
}

fn seen(run: &Run) -> Seen<'_> {
    Seen {
        hijacked: run.app.hijacked,
        requests: &run.app.requests,
        read: &run.app.read,
        saw_eof: run.app.saw_eof,
        response_status: run.app.response_status,
    }
}

/// The `differential` target: the reference and hyper (drawn options) on the same
/// scenario, server side or client side (the first byte's low bit). The reference
/// must pass the oracle, and when hyper can run the case and it is no known
/// finding, the application must see the same thing under both: the same hand-over,
/// requests, bytes read and EOF. The oracle judges each library against the
/// scenario; this judges them against each other, which also catches a mistake the
/// oracle and the reference would share.
pub fn differential(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let client_side = u8::arbitrary(&mut u).unwrap_or(0) & 1 == 1;
    let (reference, hyper, subject) = if client_side {
        let Ok(client) = read_hyper_client(&mut u) else {
            return;
        };
        let scenario = Scenario::arbitrary(&mut u).unwrap_or_else(|_| Scenario::basic());
        (
            check::run_client(&ReferenceClient::default(), &scenario),
            check::run_client(&client, &scenario),
            format!("{client:?}"),
        )
    } else {
        let Ok(server) = read_hyper_server(&mut u) else {
            return;
        };
        let scenario = Scenario::arbitrary(&mut u).unwrap_or_else(|_| Scenario::basic());
        if server.options.known_finding(&scenario).is_some() {
            return;
        }
        (
            check::run_server(&ReferenceServer::default(), &scenario),
            check::run_server(&server, &scenario),
            format!("{server:?}"),
        )
    };
    if !reference.passed() {
        fail(&reference);
    }
    if hyper.unsupported.is_some() {
        return;
    }
    if seen(&reference) != seen(&hyper) {
        panic!(
            "{FAILURE_MARK}: the reference and hyper disagree on what the application saw\n\
             reference saw: {:?}\nhyper saw:     {:?}\nhyper's run: {}",
            seen(&reference),
            seen(&hyper),
            crash_report(&hyper, &subject)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_bytes_are_hyper_defaults() {
        let zeros = [0u8; 64];
        let mut u = Unstructured::new(&zeros);
        let server = read_hyper_server(&mut u).unwrap();
        assert_eq!(server.mode, ServerMode::Direct);
        assert_eq!(server.options, HyperServerOptions::default());
        assert_eq!(zeros.len() - u.len(), HYPER_SERVER_DEFAULTS);
        let mut u = Unstructured::new(&zeros);
        let client = read_hyper_client(&mut u).unwrap();
        assert_eq!(client.options, HyperClientOptions::default());
        assert_eq!(zeros.len() - u.len(), HYPER_CLIENT_DEFAULTS);
    }
}
