//! One file per problem result, for the person who debugs it: the diagnosis and
//! the connection as text (and as a pcap, for Wireshark).
//!
//! A proxy case's files hold both legs: the text has one trace per leg, under
//! its label ("client to proxy", "proxy to upstream"), the capture one TCP
//! stream per leg ([`crate::wire::pcap::write_streams`]).
//!
//! File names are `<case-id>--<target>--<side>.txt` (and `.pcap`, or `.pcapng`
//! over TLS, whose comments label the plaintext), with every
//! character of the target other than ASCII letters, digits, `.`, `-` and `_`
//! replaced by `_`: a target is a name or an address the user gave, and must
//! never reach outside the directory (`../x`, `/etc`) or make an unportable name
//! (`127.0.0.1:8080` becomes `127.0.0.1_8080`).

use std::io;
use std::path::{Path, PathBuf};

use crate::results::leg::CLIENT_TO_PROXY;
use crate::results::{CaseResult, RunReport, TransportInfo};
use crate::wire::{Trace, text};

/// Writes a trace file for each result that is a problem (fail, non-strict,
/// error) into `dir`, creating it. Passing and unsupported results get none.
///
/// Over TLS both files say that the segments are plaintext carried in TLS
/// records: the text in its header, the capture as a pcapng (`.pcapng`) whose
/// file and data packets carry that comment.
pub fn write_dir(report: &RunReport, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let transport = report.transport.as_ref();
    let label = transport.and_then(TransportInfo::segment_label);
    for r in report.results.iter().filter(|r| r.outcome.is_problem()) {
        let stem = file_stem(r);
        std::fs::write(dir.join(format!("{stem}.txt")), render(r, transport))?;
        let extension = if label.is_some() { "pcapng" } else { "pcap" };
        let mut streams = vec![&r.trace];
        streams.extend(r.legs.iter().map(|leg| &leg.trace));
        pcap(
            &streams,
            label.as_deref(),
            &dir.join(format!("{stem}.{extension}")),
        )?;
    }
    Ok(())
}

/// The capture of a result's connections (its trace, then its legs: one TCP
/// stream each), for Wireshark's "Follow TCP Stream".
fn pcap(streams: &[&Trace], label: Option<&str>, path: &Path) -> io::Result<()> {
    crate::wire::pcap::write_file_streams(streams, label, path).map_err(|e| match e {
        crate::wire::pcap::PcapExportError::Io(io) => io,
        other => io::Error::other(other),
    })
}

/// The name of a result's files, without extension.
pub fn file_stem(r: &CaseResult) -> String {
    format!("{}--{}--{}", safe(&r.case_id), safe(&r.target), r.side)
}

/// The path of a result's text trace inside `dir`.
pub fn text_path(dir: &Path, r: &CaseResult) -> PathBuf {
    dir.join(format!("{}.txt", file_stem(r)))
}

fn safe(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // No name made only of dots ("..") and no hidden file.
    if out.starts_with('.') {
        out.insert(0, '_');
    }
    out
}

/// The text of one result's trace file: what, how it was reached (for a
/// black-box run), the verdict, then the trace.
pub fn render(r: &CaseResult, transport: Option<&TransportInfo>) -> String {
    let mut out = format!(
        "case:    {}\ntitle:   {}\nlevel:   {}\nspec:    {}\n",
        r.case_id,
        r.title,
        r.level.as_str(),
        r.spec
    );
    if !r.bug.is_empty() {
        out.push_str(&format!("bug:     {}\n", r.bug));
    }
    out.push_str(&format!(
        "target:  {} ({})\noutcome: {}\n",
        r.target,
        r.side,
        r.outcome.as_str()
    ));
    if !r.repeats.is_empty() {
        out.push_str(&format!("repeats: {}\n", crate::results::tally(&r.repeats)));
    }
    for sentence in transport.iter().flat_map(|t| t.sentences()) {
        out.push_str(&format!("transport: {sentence}\n"));
    }
    out.push('\n');
    for v in &r.violations {
        out.push_str(&format!("FAIL {}: {}\n", v.point, v.message));
    }
    for note in &r.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    if r.legs.is_empty() {
        out.push_str("\ntrace:\n");
        out.push_str(&text::render(&r.trace));
        return out;
    }
    // A proxy case: each leg under its label, the client's first.
    out.push_str(&format!("\ntrace, {CLIENT_TO_PROXY}:\n"));
    out.push_str(&text::render(&r.trace));
    for leg in &r.legs {
        out.push_str(&format!("\ntrace, {}:\n", leg.label));
        out.push_str(&text::render(&leg.trace));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_directory() {
        assert_eq!(safe("127.0.0.1:8080"), "127.0.0.1_8080");
        assert_eq!(safe("../../etc/passwd"), "_.._.._etc_passwd");
        assert_eq!(safe(".."), "_..");
        assert_eq!(
            safe("mutant:drops-first-packet"),
            "mutant_drops-first-packet"
        );
    }
}
