//! STUB: JSON report (written on another branch).
use std::path::Path;

/// Writes `report` as JSON to `path`.
pub fn write(report: &super::RunReport, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, format!("{{\"results\": {}}}\n", report.results.len()))
}
