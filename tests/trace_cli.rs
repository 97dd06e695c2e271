//! `hijack-harness trace`: the text trace on stdout, the pcap on request, and the
//! exit code of the verdict (0 pass, 1 fail, 2 could not run).

use assert_cmd::Command;

fn harness() -> Command {
    Command::cargo_bin("hijack-harness").expect("the binary is built")
}

#[test]
fn reference_trace_passes() {
    let out = harness()
        .args(["trace", "handoff.early-data.same-segment.1"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("reference server: pass\n"), "{stdout}");
    assert!(stdout.contains("== server hijacked =="), "{stdout}");
}

#[test]
fn mutant_trace_fails_points_at_the_bytes_and_writes_a_pcap() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let pcap = dir.path().join("lost.pcap");
    let out = harness()
        .args([
            "trace",
            "handoff.early-data.same-segment.1",
            "--subject",
            "mutant:ignores-read-ahead",
            "--pcap",
        ])
        .arg(&pcap)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL point 1 (read side, server)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  lost 1 byte: c>s stream bytes"),
        "{stdout}"
    );
    let written = std::fs::read(&pcap).expect("the pcap was written");
    // The classic pcap magic number, little-endian, microseconds.
    assert_eq!(&written[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
}

#[test]
fn both_sides_unless_one_is_chosen() {
    let out = harness()
        .args(["trace", "handoff.server-speaks-first"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("reference server: pass"), "{stdout}");
    assert!(stdout.contains("reference client: pass"), "{stdout}");
    let out = harness()
        .args(["trace", "handoff.server-speaks-first", "--side", "client"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("reference server"), "{stdout}");
}

/// `--scenario HEX` runs the scenario those bytes decode to (every side the
/// subject has) and ends with the scenario in words. The bytes here are the
/// plain upgrade's; the round trip from real counterexamples is in tests/replay.rs.
#[test]
fn a_scenario_in_hex_is_traced_and_described() {
    let plain = hijack_harness::scenario::Scenario::basic();
    let hex = hijack_harness::properties::scenario_hex(&plain).expect("encodes");
    let out = harness()
        .args(["trace", "--scenario", &hex])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("reference server: pass\n"), "{stdout}");
    assert!(stdout.contains("\nreference client: pass\n"), "{stdout}");
    assert!(
        stdout.ends_with("\nthe scenario:\n  upgrade `echo`\n  no cuts\n"),
        "{stdout}"
    );
}

#[test]
fn bad_names_exit_2() {
    for args in [
        &["trace", "no.such-case"][..],
        &["trace", "handoff.head-split", "--subject", "mutant:nope"],
        &["trace", "handoff.head-split", "--side", "client"],
        &["trace", "handoff.server-speaks-first", "--pcap", "x.pcap"],
        &["trace"],
        &["trace", "handoff.head-split", "--scenario", "00"],
        &["trace", "--scenario", "0g"],
        &["trace", "--scenario", "000"],
        &["trace", "--scenario", "00", "--pcap", "x.pcap"],
    ] {
        let out = harness().args(args).output().expect("runs");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = harness()
        .args(["trace", "--scenario", "0g"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--scenario: 'g' at position 1 is not a hex digit"),
        "{stderr}"
    );
}

#[test]
fn hyper_trace_has_no_clock_in_it() {
    let out = harness()
        .args(["trace", "handoff.server-speaks-first", "--subject", "hyper"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("hyper server: pass"), "{stdout}");
    assert!(stdout.contains("hyper client: pass"), "{stdout}");
    assert!(!stdout.to_ascii_lowercase().contains("date:"), "{stdout}");
}
