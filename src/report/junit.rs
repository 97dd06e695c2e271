//! STUB: JUnit XML report (written on another branch).
use std::path::Path;

/// Writes `report` as JUnit XML to `path`.
pub fn write(report: &super::RunReport, path: &Path) -> Result<(), super::Error> {
    std::fs::write(
        path,
        format!(
            "<testsuites tests=\"{}\"></testsuites>\n",
            report.results.len()
        ),
    )?;
    Ok(())
}
