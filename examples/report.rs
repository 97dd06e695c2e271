//! Writes every report format for a real in-memory run of the suite (the
//! reference and every mutant) into a directory, to look at them:
//!
//! ```sh
//! cargo run --example report -- /tmp/hh-report
//! scripts/html-screenshot.sh /tmp/hh-report/report.html /tmp/hh-report/report.png
//! ```
//!
//! Further arguments keep only the results whose `case-id target side` contains
//! every one of them (`... -- /tmp/hh drops-first-packet same-segment.1`), for a
//! short page to look at.

#[path = "../tests/support/suite_report.rs"]
mod suite_report;

use std::path::PathBuf;
use std::process::ExitCode;

use hijack_harness::report;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: report OUTPUT_DIR");
        return ExitCode::from(2);
    };
    let filters: Vec<String> = std::env::args().skip(2).collect();
    let mut run = suite_report::suite_report();
    if !filters.is_empty() {
        run.results.retain(|r| {
            let name = format!("{} {} {}", r.case_id, r.target, r.side);
            filters.iter().all(|f| name.contains(f.as_str()))
        });
    }
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| report::json::write(&run, &dir.join("report.json")))
        .and_then(|()| report::html::write(&run, &dir.join("report.html")))
        .and_then(|()| report::traces::write_dir(&run, &dir.join("traces")))
        .map_err(|e| e.to_string())
        .and_then(|()| {
            report::junit::write(&run, &dir.join("junit.xml")).map_err(|e| e.to_string())
        })
        .and_then(|()| {
            report::expect::write(&run, &dir.join("expected.txt")).map_err(|e| e.to_string())
        });
    if let Err(e) = written {
        eprintln!("{e}");
        return ExitCode::from(2);
    }
    print!("{}", report::text::render(&run));
    println!("written to {}", dir.display());
    ExitCode::SUCCESS
}
