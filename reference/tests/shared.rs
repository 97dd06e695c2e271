//! Every public `async fn` of the reference hands out its body in a
//! [`hijack_reference::shared::Shared`] instead (see `src/shared.rs`): the body of
//! an `async fn` is compiled in the crate that awaits it, so under the fuzz build,
//! which instruments this crate and not the harness, a plain `pub async fn` that
//! the harness awaits would run uninstrumented. This test reads the sources (no
//! compiler) and fails on a `pub async fn` that is not listed below with its reason.

use std::path::Path;

/// `pub async fn`s allowed, with why.
const ALLOWED: &[(&str, &str)] = &[(
    "connect",
    "opens a TCP connection: not generic, and no fuzz target connects",
)];

#[test]
fn public_async_methods_return_shared_futures() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&src)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).expect("a source file");
        // Unit tests may use plain async helpers.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            let Some(rest) = line.trim_start().strip_prefix("pub async fn ") else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !ALLOWED.iter().any(|(allowed, _)| *allowed == name) {
                let file = path.file_name().unwrap_or_default().to_string_lossy();
                offenders.push(format!("src/{file}:{}: pub async fn {name}", n + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "return `impl Future<Output = ...>` built with `Shared::new(async move {{ ... }})` \
         instead (see src/shared.rs), and name it in src/instances.rs:\n{}",
        offenders.join("\n")
    );
}
