//! A run as text: a summary line, the trace ([`crate::wire::text`]) and, for a
//! failing run, the oracle's diagnosis under it ([`crate::oracle::render_diagnosis`]).
//! This is what `snapshots/` pins down and what `hijack-harness trace` prints.

use std::fmt::Write;

use crate::check::Run;
use crate::oracle::render_diagnosis;
use crate::wire::text::render;

/// Renders a run: a summary line, the trace, and for a failing run the oracle's
/// diagnosis with each marked place pointed at (see the module docs).
pub fn render_run(run: &Run) -> String {
    let mut out = String::new();
    let outcome = if run.unsupported.is_some() {
        "unsupported"
    } else if run.verdict.strict() {
        "pass"
    } else {
        "FAIL"
    };
    let _ = writeln!(out, "{} {}: {outcome}", run.subject, run.side);
    if let Some(why) = &run.unsupported {
        let _ = writeln!(out, "unsupported: {why}");
        return out;
    }
    out.push_str(&render(&run.trace));
    out.push_str(&render_diagnosis(&run.trace, &run.verdict.violations));
    for note in &run.verdict.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}
