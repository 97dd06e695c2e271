//! STUB: one trace file per case (written on another branch).
use std::path::Path;

/// Writes one trace per case result into `dir`.
pub fn write_dir(report: &super::RunReport, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (i, result) in report.results.iter().enumerate() {
        let name = format!("{i:03}-{}.txt", result.case_id);
        std::fs::write(dir.join(name), crate::wire::text::render(&result.trace))?;
    }
    Ok(())
}
