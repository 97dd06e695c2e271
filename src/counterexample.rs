//! A failing run told top-down, for the person who has to fix it.
//!
//! A report reads in the order of the questions a person asks about a failure:
//!
//! 1. **What broke**: the verdict, first line first (`FAIL point 1 (read side,
//!    server): ...`), so a CI log or a panic message says it before anything else.
//! 2. **How it looked on the wire**: the trace ([`crate::wire::text`]), with the
//!    oracle's carets ([`crate::oracle::render_diagnosis`]) under the bytes that went wrong.
//! 3. **What the case was**: the scenario in words, one line per choice that
//!    matters ([`crate::scenario::summary`]); the full `Debug` dump stays one
//!    `{:#?}` away on the value that holds the run.
//! 4. **How to see it again**: one command. The scenario travels as the hex of its
//!    bytes in the fuzzing format (`fuzzing::encode`), which `hijack-harness trace
//!    --scenario HEX`, `HIJACK_SCENARIO=HEX` and
//!    [`crate::properties::replay_server`] all accept, and which is a fuzz seed
//!    as it stands (write the bytes into `corpus/<target>/`).
//!
//! Which command replays a run depends on who can build its subject ([`Replay`]):
//! the command line knows the reference, hyper and the mutants; any other subject
//! exists only in the program that found the failure, so that program runs again
//! with `HIJACK_SCENARIO` set, and the property check it calls replays that one
//! scenario instead of generating new ones.

use std::fmt::{self, Write};
use std::path::Path;

use crate::check::Run;
use crate::oracle::render_diagnosis;
use crate::scenario::summary;
use crate::wire::{Side, text};

/// The environment variable that makes a property check replay one scenario
/// (its hex, as a report prints it) instead of generating scenarios.
pub const SCENARIO_VAR: &str = "HIJACK_SCENARIO";

/// How a report says to run its scenario again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// `hijack-harness trace --scenario HEX --subject NAME --side SIDE`: for the
    /// subjects the command line can build by name (reference, hyper, mutants).
    Trace,
    /// The program that is running, again, with `HIJACK_SCENARIO=HEX`: for a
    /// subject that only this program has (`cargo test NAME -- --exact` in a test,
    /// `cargo run --example NAME` in an example, the command line otherwise).
    Rerun,
}

/// A failing run as a person reads it (see the module docs). `Display` is the
/// report; the run itself, with the whole scenario, is in [`Report::run`].
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// The run.
    pub run: &'a Run,
    /// The scenario's bytes in the fuzzing format, when it has them (every
    /// scenario the generators build does).
    pub scenario_bytes: Option<Vec<u8>>,
    /// The command to print.
    pub replay: Replay,
    /// How the subject was configured, when the replay command cannot say it
    /// (a fuzz target's hyper options); empty when there is nothing to add.
    pub configuration: String,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let run = self.run;
        write!(f, "{}", run.verdict)?;
        writeln!(f, "\nthe wire, with {} as the {}:", run.subject, run.side)?;
        f.write_str(&text::render(&run.trace))?;
        f.write_str(&render_diagnosis(&run.trace, &run.verdict.violations))?;
        writeln!(f, "\nthe scenario:")?;
        for line in summary::describe(&run.scenario) {
            writeln!(f, "  {line}")?;
        }
        if !self.configuration.is_empty() {
            writeln!(f, "  subject configuration: {}", self.configuration)?;
        }
        writeln!(f)?;
        match &self.scenario_bytes {
            None => writeln!(
                f,
                "replay: none (this scenario has no byte form; its fields are in the run's Debug)"
            ),
            Some(bytes) => {
                let hex = to_hex(bytes);
                match self.replay {
                    Replay::Trace => {
                        writeln!(f, "replay: {}", trace_command(&hex, &run.subject, run.side))?;
                        if !self.configuration.is_empty() {
                            writeln!(
                                f,
                                "        (with the subject's default configuration, not the one above)"
                            )?;
                        }
                        Ok(())
                    }
                    Replay::Rerun => writeln!(f, "replay: {}", rerun_command(&hex)),
                }
            }
        }
    }
}

/// The report of a fuzz target's failing run, replayed with `hijack-harness
/// trace` (the fuzz targets run subjects the command line knows).
/// `configuration` is the subject's options when they are not its defaults.
pub fn fuzz_crash(run: &Run, configuration: &str, scenario_bytes: Option<Vec<u8>>) -> String {
    Report {
        run,
        scenario_bytes,
        replay: Replay::Trace,
        configuration: configuration.trim().to_string(),
    }
    .to_string()
}

/// `bytes` as lowercase hex digits, two per byte.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Why a hex string is not a scenario's bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// Two digits make a byte; one was left over.
    #[error("a scenario's hex has an even number of digits; this one has {0}")]
    OddLength(usize),
    /// A character that is not `0-9`, `a-f` or `A-F`.
    #[error("{found:?} at position {at} is not a hex digit")]
    NotHex {
        /// Its position, in characters.
        at: usize,
        /// The character.
        found: char,
    },
}

/// The bytes of `hex` (digits in either case; spaces around it are ignored).
pub fn from_hex(hex: &str) -> Result<Vec<u8>, HexError> {
    let hex = hex.trim();
    let digits: Vec<u8> = hex
        .chars()
        .enumerate()
        .map(|(at, c)| {
            c.to_digit(16)
                .map(|d| d as u8)
                .ok_or(HexError::NotHex { at, found: c })
        })
        .collect::<Result<_, _>>()?;
    if digits.len() % 2 == 1 {
        return Err(HexError::OddLength(digits.len()));
    }
    Ok(digits.chunks(2).map(|d| d[0] << 4 | d[1]).collect())
}

/// `hijack-harness trace --scenario HEX --subject SUBJECT --side SIDE`.
pub fn trace_command(hex: &str, subject: &str, side: Side) -> String {
    format!(
        "hijack-harness trace --scenario {hex} --subject {} --side {side}",
        shell_word(subject)
    )
}

/// The command that runs this program again with `HIJACK_SCENARIO=hex`, in the
/// words its user typed: `cargo test NAME -- --exact` from a test thread of a
/// cargo test binary (libtest names each test's thread after the test),
/// `cargo run --example NAME` for an example cargo built, else the command line
/// as it was.
pub fn rerun_command(hex: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    let exe = std::env::current_exe()
        .unwrap_or_else(|_| args.first().cloned().unwrap_or_default().into());
    let built = cargo_output(&exe);
    let package = std::env::var("CARGO_PKG_NAME")
        .map(|p| format!(" -p {}", shell_word(&p)))
        .unwrap_or_default();
    let test = std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .map(str::to_owned);
    let command = match (built, test) {
        (Some(("deps", profile, _)), Some(test)) => {
            format!(
                "cargo test{profile}{package} {} -- --exact",
                shell_word(&test)
            )
        }
        (Some(("examples", profile, name)), _) => {
            let rest: Vec<String> = args.iter().skip(1).map(|a| shell_word(a)).collect();
            let rest = if rest.is_empty() {
                String::new()
            } else {
                format!(" -- {}", rest.join(" "))
            };
            format!(
                "cargo run{profile}{package} --example {}{rest}",
                shell_word(&name)
            )
        }
        _ => args
            .iter()
            .map(|a| shell_word(a))
            .collect::<Vec<_>>()
            .join(" "),
    };
    format!("{SCENARIO_VAR}={hex} {command}")
}

/// For a binary cargo built (`.../<profile dir>/<deps|examples>/<name>`): the
/// kind of folder, the profile flag that builds into that profile folder, and
/// the target's name.
fn cargo_output(exe: &Path) -> Option<(&'static str, &'static str, String)> {
    let folder = exe.parent()?;
    let kind = match folder.file_name()?.to_str()? {
        "deps" => "deps",
        "examples" => "examples",
        _ => return None,
    };
    let profile = match folder.parent()?.file_name()?.to_str()? {
        "debug" => "",
        "release" => " --release",
        _ => return None,
    };
    let name = exe.file_stem()?.to_str()?.to_string();
    Some((kind, profile, name))
}

/// `word` as one shell word: as it is when that is safe, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,+@%".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(from_hex(&to_hex(&bytes)), Ok(bytes));
        assert_eq!(from_hex(" 0aFF\n"), Ok(vec![0x0a, 0xff]));
    }

    #[test]
    fn bad_hex_says_where() {
        assert_eq!(from_hex("abc"), Err(HexError::OddLength(3)));
        assert_eq!(from_hex("0g"), Err(HexError::NotHex { at: 1, found: 'g' }));
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(
            shell_word("mutant:loses-close-write"),
            "mutant:loses-close-write"
        );
        assert_eq!(shell_word("my server"), "'my server'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn cargo_outputs_are_recognised() {
        let at = |p: &str| cargo_output(Path::new(p));
        assert_eq!(
            at("/x/target/debug/examples/byo_subject"),
            Some(("examples", "", "byo_subject".into()))
        );
        assert_eq!(
            at("/x/target/release/deps/conform-0a1b2c"),
            Some(("deps", " --release", "conform-0a1b2c".into()))
        );
        assert_eq!(at("/usr/local/bin/hijack-harness"), None);
    }

    /// Inside this test (a libtest thread named after it, in a binary under
    /// `deps/`), the command is `cargo test` with this test's name.
    #[test]
    fn a_test_reruns_itself_by_name() {
        let command = rerun_command("00ff");
        assert!(
            command.starts_with("HIJACK_SCENARIO=00ff cargo test"),
            "{command}"
        );
        assert!(
            command.ends_with("counterexample::tests::a_test_reruns_itself_by_name -- --exact"),
            "{command}"
        );
    }
}
