//! STUB: comparing a run with an expected-results file (written on another branch).
use std::path::Path;

/// How a run differs from the expected results.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// One line per case whose outcome changed; only these fail the run.
    pub changed: Vec<String>,
}

/// Compares `report` with the expectations in `path`.
pub fn compare(report: &super::RunReport, path: &Path) -> Result<Comparison, super::Error> {
    let text = std::fs::read_to_string(path)?;
    let mut changed = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut words = line.split_whitespace();
        let (Some(id), Some(want)) = (words.next(), words.next()) else {
            return Err(super::Error::Format(format!("bad line: {line:?}")));
        };
        for r in report.results.iter().filter(|r| r.case_id == id) {
            if r.outcome.as_str() != want {
                changed.push(format!("{id}: expected {want}, got {}", r.outcome.as_str()));
            }
        }
    }
    Ok(Comparison { changed })
}
