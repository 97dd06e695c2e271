//! The report formats, on a real run: every suite case against the reference
//! and every mutant, in memory. Each format is checked by something that can
//! fail, and each check is shown failing on a broken input.

#[path = "support/suite_report.rs"]
mod suite_report;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use hijack_harness::oracle::{Point, Violation};
use hijack_harness::report;
use hijack_harness::results::{CaseResult, Outcome, RunReport};
use hijack_harness::suite::Level;
use hijack_harness::wire::{Closing, Direction, Event, Side, Trace};
use serde_json::Value;

/// The suite run, once for every test here.
fn run() -> &'static RunReport {
    static RUN: OnceLock<RunReport> = OnceLock::new();
    RUN.get_or_init(suite_report::suite_report)
}

fn manifest(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn the_run_has_real_failures_and_passes() {
    let t = run().totals();
    assert!(t.pass > 0 && t.fail > 0 && t.non_strict > 0, "{t:?}");
    // A broken SHOULD is non-strict, a broken MUST a failure.
    for r in run().results.iter().filter(|r| !r.violations.is_empty()) {
        let want = match r.level {
            Level::Must => Outcome::Fail,
            Level::Should => Outcome::NonStrict,
        };
        assert_eq!(r.outcome, want, "{} {}", r.case_id, r.target);
    }
    assert!(run().mutants.iter().all(|m| m.caught));
    for r in &run().results {
        assert_eq!(
            r.outcome == Outcome::Pass,
            r.violations.is_empty(),
            "{} {}",
            r.case_id,
            r.target
        );
        if r.target == "reference" {
            assert_eq!(r.outcome, Outcome::Pass, "{}", r.case_id);
        }
    }
}

// ---------------------------------------------------------------- JSON

/// A validator for the subset of JSON Schema that `docs/report.schema.json`
/// uses. It refuses any keyword it does not implement, so the schema cannot
/// promise something this test does not check.
fn validate(schema: &Value, root: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Value::Object(rules) = schema else {
        errors.push(format!("{at}: schema is not an object"));
        return;
    };
    if let Some(Value::String(r)) = rules.get("$ref") {
        let name = r.trim_start_matches("#/$defs/");
        return validate(&root["$defs"][name], root, value, at, errors);
    }
    for (key, rule) in rules {
        match key.as_str() {
            "$schema" | "$id" | "title" | "description" | "$defs" => {}
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                let ok = types.iter().any(|t| match *t {
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "string" => value.is_string(),
                    "integer" => value.is_u64() || value.is_i64(),
                    "number" => value.is_number(),
                    "boolean" => value.is_boolean(),
                    "null" => value.is_null(),
                    _ => false,
                });
                if !ok {
                    errors.push(format!("{at}: {value} is not of type {types:?}"));
                }
            }
            "const" if value != rule => errors.push(format!("{at}: {value} is not {rule}")),
            "enum" => {
                if !rule.as_array().is_some_and(|vs| vs.contains(value)) {
                    errors.push(format!("{at}: {value} is not one of {rule}"));
                }
            }
            "minimum" => {
                if value
                    .as_f64()
                    .zip(rule.as_f64())
                    .is_some_and(|(v, m)| v < m)
                {
                    errors.push(format!("{at}: {value} < {rule}"));
                }
            }
            "maximum" => {
                if value
                    .as_f64()
                    .zip(rule.as_f64())
                    .is_some_and(|(v, m)| v > m)
                {
                    errors.push(format!("{at}: {value} > {rule}"));
                }
            }
            "pattern" => {
                // The only pattern is the hex of segment bytes.
                let hex = value.as_str().unwrap_or("");
                if !hex.len().is_multiple_of(2)
                    || !hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    errors.push(format!("{at}: not lowercase hex pairs"));
                }
            }
            "required" => {
                for name in rule
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if value.get(name).is_none() {
                        errors.push(format!("{at}: missing `{name}`"));
                    }
                }
            }
            "properties" => {
                if let (Value::Object(props), Value::Object(fields)) = (rule, value) {
                    for (name, field) in fields {
                        match props.get(name) {
                            Some(s) => validate(s, root, field, &format!("{at}.{name}"), errors),
                            None if rules.get("additionalProperties")
                                == Some(&Value::Bool(false)) =>
                            {
                                errors.push(format!("{at}: undocumented field `{name}`"))
                            }
                            None => {}
                        }
                    }
                }
            }
            "additionalProperties" => {}
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    validate(rule, root, item, &format!("{at}[{i}]"), errors);
                }
            }
            "const" => {}
            other => errors.push(format!(
                "{at}: the test does not implement keyword `{other}`"
            )),
        }
    }
}

fn schema() -> Value {
    let text = std::fs::read_to_string(manifest("docs/report.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn schema_errors(doc: &Value) -> Vec<String> {
    let schema = schema();
    let mut errors = Vec::new();
    validate(&schema, &schema, doc, "$", &mut errors);
    errors
}

#[test]
fn json_follows_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    report::json::write(run(), &path).unwrap();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let errors = schema_errors(&doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));

    // The documented content is there, not only the shape.
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["totals"]["cases"], run().results.len());
    assert_eq!(
        doc["mutants"].as_array().unwrap().len(),
        run().mutants.len()
    );
    let failing = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["outcome"] == "fail")
        .unwrap();
    assert!(failing["violations"][0]["point"].as_u64().is_some());
    assert!(
        failing["trace"]["events"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    let passing = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["outcome"] == "pass")
        .unwrap();
    assert!(passing["trace"].get("events").is_none());
    assert!(
        passing["trace"]["client_to_server"]["bytes"]
            .as_u64()
            .unwrap()
            > 0
    );
}

/// A black-box run over TLS to a target elsewhere: every shape of the report
/// says how it was reached, and the JSON still follows the schema.
#[test]
fn every_shape_says_how_the_target_was_reached() {
    let mut reached = run().clone();
    reached.transport = Some(hijack_harness::results::TransportInfo {
        address: "192.0.2.7:443".into(),
        local: false,
        tls: Some("TLS to app, certificate NOT verified (--insecure)".into()),
    });
    let doc: Value = serde_json::from_str(&report::json::render(&reached)).unwrap();
    let errors = schema_errors(&doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(doc["transport"]["address"], "192.0.2.7:443");
    assert_eq!(doc["transport"]["local"], false);
    assert!(
        doc["transport"]["tls"]
            .as_str()
            .unwrap()
            .contains("--insecure")
    );
    let notes = doc["transport"]["notes"].to_string();
    assert!(notes.contains("segments carried in TLS records"), "{notes}");
    assert!(
        notes.contains("segment boundaries are best effort"),
        "{notes}"
    );
    // Without a transport (the embedded run) the field is absent.
    let plain: Value = serde_json::from_str(&report::json::render(run())).unwrap();
    assert!(plain.get("transport").is_none());

    let text = report::text::render(&reached);
    let junit = report::junit::render(&reached).unwrap();
    let html = report::html::render(&reached);
    for (shape, out) in [("text", &text), ("junit", &junit), ("html", &html)] {
        assert!(out.contains("NOT verified (--insecure)"), "{shape}");
        assert!(
            out.contains("segment boundaries are best effort"),
            "{shape}"
        );
        assert!(out.contains("segments carried in TLS records"), "{shape}");
    }
    assert!(
        text.starts_with("target address: 192.0.2.7:443\n"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    report::traces::write_dir(&reached, dir.path()).unwrap();
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.ends_with(".pcapng")), "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with(".pcap")), "{names:?}");
    let txt = names.iter().find(|n| n.ends_with(".txt")).unwrap();
    let body = std::fs::read_to_string(dir.path().join(txt)).unwrap();
    assert!(body.contains("transport: TLS to app"), "{body}");
}

#[test]
fn the_schema_check_fails_on_a_drifted_document() {
    let doc: Value = serde_json::from_str(&report::json::render(run())).unwrap();

    let mut missing = doc.clone();
    missing["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("outcome");
    assert!(
        schema_errors(&missing)
            .iter()
            .any(|e| e.contains("missing `outcome`"))
    );

    let mut extra = doc.clone();
    extra["results"][0]["surprise"] = Value::Bool(true);
    assert!(
        schema_errors(&extra)
            .iter()
            .any(|e| e.contains("undocumented field `surprise`"))
    );

    let mut wrong = doc;
    wrong["results"][0]["outcome"] = Value::String("passed".into());
    assert!(!schema_errors(&wrong).is_empty());
}

/// The book's table (`docs/src/reports.md`, "JSON") names every field of the
/// schema: the documentation cannot fall behind the contract.
#[test]
fn the_book_documents_every_schema_field() {
    let page = std::fs::read_to_string(manifest("docs/src/reports.md")).unwrap();
    let section = page
        .split("## JSON")
        .nth(1)
        .expect("docs/src/reports.md has a `## JSON` section");
    fn fields(schema: &Value, out: &mut Vec<String>) {
        match schema {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    out.extend(props.keys().cloned());
                }
                for v in map.values() {
                    fields(v, out);
                }
            }
            Value::Array(vs) => vs.iter().for_each(|v| fields(v, out)),
            _ => {}
        }
    }
    let mut names = Vec::new();
    fields(&schema(), &mut names);
    let undocumented: Vec<_> = names
        .iter()
        .filter(|n| !section.contains(&format!("`{n}`")) && !section.contains(&format!(".{n}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/src/reports.md misses {undocumented:?}"
    );
}

// ---------------------------------------------------------------- JUnit

/// Parses XML with quick-xml and counts elements by name; panics if it is not well formed.
fn element_counts(xml: &str) -> std::collections::BTreeMap<String, usize> {
    use quick_xml::events::Event as X;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut counts = std::collections::BTreeMap::new();
    let mut depth = 0i64;
    loop {
        match reader.read_event() {
            Ok(X::Start(e)) => {
                depth += 1;
                *counts
                    .entry(String::from_utf8_lossy(e.name().as_ref()).into_owned())
                    .or_insert(0) += 1;
            }
            Ok(X::Empty(e)) => {
                *counts
                    .entry(String::from_utf8_lossy(e.name().as_ref()).into_owned())
                    .or_insert(0) += 1;
            }
            Ok(X::End(_)) => depth -= 1,
            Ok(X::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML at {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "unclosed elements");
    counts
}

#[test]
fn junit_is_well_formed_and_counts_match() {
    let xml = report::junit::render(run()).unwrap();
    let counts = element_counts(&xml);
    let t = run().totals();
    assert_eq!(counts.get("testcase"), Some(&t.cases));
    assert_eq!(counts.get("failure").copied().unwrap_or(0), t.fail);
    assert_eq!(counts.get("error").copied().unwrap_or(0), t.error);
    assert_eq!(counts.get("skipped").copied().unwrap_or(0), t.unsupported);
    let suites = run()
        .results
        .iter()
        .map(|r| (r.target.as_str(), r.side))
        .collect::<std::collections::HashSet<_>>()
        .len();
    assert_eq!(counts.get("testsuite"), Some(&suites));
    assert!(
        xml.contains("NON-STRICT:"),
        "non-strict results carry their note"
    );
}

#[test]
#[should_panic(expected = "not well-formed")]
fn the_well_formedness_check_fails_on_broken_xml() {
    element_counts("<testsuites><testsuite></testsuites>");
}

/// Runs `xmllint --schema tests/data/junit.xsd` on `xml`; `None` if xmllint is missing.
fn xmllint(xml: &str) -> Option<(bool, String)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    std::fs::write(&path, xml).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(manifest("tests/data/junit.xsd"))
        .arg(&path)
        .output()
        .ok()?;
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn junit_validates_against_the_xsd() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    report::junit::write(run(), &path).unwrap();
    let xml = std::fs::read_to_string(&path).unwrap();
    let Some((valid, errors)) = xmllint(&xml) else {
        println!(
            "SKIPPED: xmllint not found (Debian: apt-get install -y libxml2-utils); JUnit XSD validation did not run"
        );
        return;
    };
    assert!(valid, "{errors}");

    // And the check can fail: a suite without its counts, a case without a
    // name, a case that both failed and was skipped.
    for broken in [
        xml.replacen(" tests=\"", " tests-gone=\"", 2),
        xml.replacen("<testcase name=\"", "<testcase title=\"", 1),
        xml.replacen("<failure ", "<skipped/><failure ", 1),
    ] {
        let (valid, _) = xmllint(&broken).unwrap();
        assert!(!valid, "the XSD accepted a broken file");
    }
}

// ---------------------------------------------------------------- HTML

fn hostile() -> RunReport {
    let nasty = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";
    let mut trace = Trace::default();
    trace.events.push(Event::Segment {
        dir: Direction::ClientToServer,
        index: 0,
        bytes: bytes::Bytes::from_static(
            b"GET / HTTP/1.1\r\n\r\n<script>alert(3)</script>\x00\xff",
        ),
    });
    trace.events.push(Event::Hijack { side: Side::Server });
    trace.events.push(Event::Segment {
        dir: Direction::ServerToClient,
        index: 0,
        bytes: bytes::Bytes::from_static(b"</svg><script>alert(4)</script>"),
    });
    trace.events.push(Event::Fin {
        dir: Direction::ServerToClient,
        how: Closing::Dropped,
    });
    trace.events.push(Event::Reset {
        dir: Direction::ClientToServer,
    });
    RunReport {
        results: vec![CaseResult {
            case_id: format!("x.{nasty}"),
            title: nasty.into(),
            level: Level::Must,
            spec: nasty.into(),
            bug: nasty.into(),
            target: format!("../{nasty}"),
            side: Side::Server,
            outcome: Outcome::Fail,
            violations: vec![Violation {
                point: Point::ServerRead,
                message: format!("{nasty} (c>s segment 0, the one)"),
                marks: Vec::new(),
                level: None,
            }],
            notes: vec![nasty.into()],
            trace,
            legs: Vec::new(),
            duration: std::time::Duration::from_millis(3),
            repeats: vec![(Outcome::Fail, 2), (Outcome::Pass, 1)],
        }],
        mutants: vec![hijack_harness::results::MutantResult {
            name: nasty.into(),
            caught: false,
            detail: nasty.into(),
        }],
        duration: std::time::Duration::from_millis(3),
        transport: None,
    }
}

#[test]
fn html_escapes_everything_a_peer_controls() {
    let html = report::html::render(&hostile());
    for bad in ["<script", "<img", "onerror=alert(2)>", "</svg><script"] {
        assert!(!html.contains(bad), "unescaped `{bad}` in the page");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The segment the diagnosis names is drawn red; RST and FIN are drawn.
    assert!(html.contains("seg bad"));
    assert!(html.contains("RST") && html.contains("FIN (dropped)"));
}

/// Writes the hostile report's HTML where `HH_HOSTILE_HTML` says, to look at it
/// in a browser (`scripts/html-screenshot.sh`); does nothing otherwise.
#[test]
fn write_hostile_html_on_request() {
    if let Some(path) = std::env::var_os("HH_HOSTILE_HTML") {
        report::html::write(&hostile(), Path::new(&path)).unwrap();
    }
}

#[test]
fn html_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    report::html::write(run(), &path).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"), "no script");
    // The only URL is the SVG namespace, which is a name, not a fetch.
    let urls = html.matches("http://").count() + html.matches("https://").count();
    let namespaces = html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
    assert_eq!(urls, namespaces, "external URL in the report");
    assert!(html.contains("Content-Security-Policy"));
    // Every result has its section and matrix cell, and every problem is open.
    for (i, r) in run().results.iter().enumerate() {
        assert!(html.contains(&format!("id=\"r{i}\"")));
        assert!(html.contains(&format!("href=\"#r{i}\"")));
        if r.outcome.is_problem() {
            assert!(html.contains(&format!("id=\"r{i}\" open>")));
        }
    }
    // Lost bytes are located: some failing result has a red segment.
    assert!(html.contains("seg bad"));
}

// ---------------------------------------------------------------- traces

#[test]
fn a_trace_file_per_problem_and_no_escape_from_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    report::traces::write_dir(run(), &dir.path().join("traces")).unwrap();
    let problems: Vec<_> = run()
        .results
        .iter()
        .filter(|r| r.outcome.is_problem())
        .collect();
    let names: Vec<String> = std::fs::read_dir(dir.path().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // A text trace and a pcap per problem, nothing else.
    let count = |ext: &str| names.iter().filter(|n| n.ends_with(ext)).count();
    assert_eq!(count(".txt"), problems.len());
    assert_eq!(count(".pcap"), problems.len());
    assert_eq!(names.len(), 2 * problems.len());
    let text = std::fs::read_to_string(report::traces::text_path(
        &dir.path().join("traces"),
        problems[0],
    ))
    .unwrap();
    assert!(text.contains("FAIL point") && text.contains("trace:\n"));

    let hostile = hostile();
    report::traces::write_dir(&hostile, &dir.path().join("h")).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path().join("h"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().all(|n| !n.contains('/') && !n.contains('<')),
        "{names:?}"
    );
}

// ---------------------------------------------------------------- expected results

#[test]
fn expected_results_catch_changes_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("expected.txt");
    report::expect::write(run(), &path).unwrap();
    assert!(report::expect::compare(run(), &path).unwrap().matches());

    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().skip(1).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "sorted, for diffs");

    // The run changes: a result that failed now passes, another is gone from the file.
    let mut changed = run().clone();
    let i = changed
        .results
        .iter()
        .position(|r| r.outcome == Outcome::Fail)
        .unwrap();
    changed.results[i].outcome = Outcome::Pass;
    let gone = lines.remove(0).to_string();
    std::fs::write(&path, lines.join("\n")).unwrap();
    let cmp = report::expect::compare(&changed, &path).unwrap();
    let r = &changed.results[i];
    let flip = format!(
        "{} {} ({}): expected fail, got pass",
        r.case_id, r.target, r.side
    );
    assert!(cmp.changed.contains(&flip), "{:?}", cmp.changed);
    let gone_id = gone.split(' ').next().unwrap();
    if !gone.ends_with(" pass") {
        assert!(
            cmp.changed
                .iter()
                .any(|c| c.starts_with(gone_id) && c.contains("(no line: a new case)"))
        );
    }

    std::fs::write(&path, "handoff.x reference server maybe\n").unwrap();
    let err = report::expect::compare(run(), &path).unwrap_err();
    assert!(err.to_string().contains(":1:"), "{err}");
}

// ---------------------------------------------------------------- text

#[test]
fn the_text_table_reads_at_a_glance() {
    let text = report::text::render(run());
    let t = run().totals();
    assert!(text.contains(&format!(
        "{} results: {} pass, {} fail",
        t.cases, t.pass, t.fail
    )));
    assert!(
        text.contains("FAIL handoff."),
        "failures are listed with diagnoses"
    );
    let mutants = hijack_harness::subject::mutants::Mutant::all().len();
    assert!(text.contains(&format!("{mutants}/{mutants} mutants caught")));
    // Many targets: numbered columns with a legend, rows within the width.
    assert!(text.contains("[1] reference"));
    let widest = text
        .lines()
        .filter(|l| l.starts_with("handoff.") && !l.contains("point"))
        .map(str::len)
        .max()
        .unwrap();
    assert!(widest <= report::text::MAX_WIDTH, "{widest}");
}

/// The committed outcomes of the in-memory suite run (`tests/data/expected-suite.txt`):
/// a case that stops catching a mutant, or starts failing the reference, fails
/// here with one sentence per change. After a deliberate change (a new case, a
/// new mutant), regenerate with `HH_BLESS=1 cargo test --test reports` and
/// review the diff.
#[test]
fn the_suite_run_matches_its_expected_results() {
    let path = manifest("tests/data/expected-suite.txt");
    if std::env::var_os("HH_BLESS").is_some() {
        report::expect::write(run(), &path).unwrap();
    }
    let cmp = report::expect::compare(run(), &path).unwrap();
    assert!(
        cmp.matches(),
        "the suite's outcomes changed (if deliberate: HH_BLESS=1 cargo test --test reports):\n{}",
        cmp.changed.join("\n")
    );
}

/// A server library that speaks no `CONNECT`: its results are `unsupported`.
struct NoConnect;

impl hijack_harness::subject::ServerSubject for NoConnect {
    fn name(&self) -> String {
        "no-connect".into()
    }

    fn supports(
        &self,
        scenario: &hijack_harness::scenario::Scenario,
    ) -> hijack_harness::subject::Support {
        let delegate = hijack_harness::subject::reference::ReferenceServer::default();
        if scenario.is_connect() {
            hijack_harness::subject::Support::No("no CONNECT support".into())
        } else {
            hijack_harness::subject::ServerSubject::supports(&delegate, scenario)
        }
    }

    fn serve(
        &self,
        io: hijack_harness::subject::BoxIo,
        handler: hijack_harness::subject::ServerHandler,
    ) -> hijack_harness::subject::BoxFuture<
        'static,
        Result<(), hijack_harness::subject::SubjectError>,
    > {
        hijack_harness::subject::ServerSubject::serve(
            &hijack_harness::subject::reference::ReferenceServer::default(),
            io,
            handler,
        )
    }
}

#[test]
fn unsupported_results_are_skipped_in_junit_and_counted_everywhere() {
    let case = hijack_harness::suite::find("connect.tunnel-early-data").unwrap();
    let run = hijack_harness::check::run_server(&NoConnect, &case.scenario);
    let result = CaseResult::from_run(&case, &run);
    assert_eq!(result.outcome, Outcome::Unsupported);
    assert_eq!(result.notes[0], "no CONNECT support");
    // And a run that could not be made (as over TCP: refused), beside it.
    let mut refused = result.clone();
    refused.outcome = Outcome::Error;
    refused.notes = vec!["connection refused".into()];
    refused.target = "127.0.0.1:1".into();
    let report = RunReport {
        results: vec![result, refused],
        ..RunReport::default()
    };
    let xml = report::junit::render(&report).unwrap();
    assert!(
        xml.contains("<error message=\"connection refused\""),
        "{xml}"
    );
    assert!(
        xml.contains("<skipped message=\"no CONNECT support\""),
        "{xml}"
    );
    if let Some((valid, errors)) = xmllint(&xml) {
        assert!(valid, "{errors}");
    }
    let doc: Value = serde_json::from_str(&report::json::render(&report)).unwrap();
    assert_eq!(doc["totals"]["unsupported"], 1);
    assert_eq!(doc["totals"]["error"], 1);
    assert!(schema_errors(&doc).is_empty());
    assert!(report::text::render(&report).contains("unsupported"));
}

// ---------------------------------------------------------------- flaky

/// One case whose two repetitions disagreed (`--repeat 2`): the same case and
/// target, once passing and once failing, merged as the runners merge them.
fn flaky_report() -> RunReport {
    let failing = run()
        .results
        .iter()
        .find(|r| r.outcome == Outcome::Fail)
        .unwrap()
        .clone();
    let mut passing = failing.clone();
    passing.outcome = Outcome::Pass;
    passing.violations.clear();
    let merged = CaseResult::merge(vec![passing.clone(), failing.clone(), passing]);
    let mut steady = CaseResult::merge(vec![failing.clone(), failing]);
    steady.target = "steady".into();
    RunReport {
        results: vec![merged, steady],
        mutants: Vec::new(),
        duration: std::time::Duration::from_millis(5),
        transport: None,
    }
}

#[test]
fn a_flaky_case_is_reported_as_such_in_every_format() {
    let report = flaky_report();
    let (flaky, steady) = (&report.results[0], &report.results[1]);
    assert_eq!(flaky.outcome, Outcome::Flaky);
    assert_eq!(flaky.repeats, vec![(Outcome::Pass, 2), (Outcome::Fail, 1)]);
    assert!(
        !flaky.violations.is_empty(),
        "the failing run's diagnosis is kept"
    );
    assert_eq!(steady.outcome, Outcome::Fail, "agreeing runs are not flaky");
    assert!(
        Outcome::Flaky.fails_run(false),
        "flaky fails the run (exit 1)"
    );

    // Text: the cell, the counts and the totals.
    let text = report::text::render(&report);
    assert!(text.contains("FLAKY"), "{text}");
    assert!(text.contains("flaky: 2 pass, 1 fail"), "{text}");
    assert!(text.contains("1 flaky in"), "{text}");

    // JSON: valid against the schema, with the counts.
    let doc: Value = serde_json::from_str(&report::json::render(&report)).unwrap();
    let errors = schema_errors(&doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(doc["totals"]["flaky"], 1);
    assert_eq!(doc["results"][0]["outcome"], "flaky");
    assert_eq!(doc["results"][0]["repeats"][1]["outcome"], "fail");
    assert_eq!(doc["results"][0]["repeats"][1]["runs"], 1);

    // JUnit: a failure of type flaky with the counts.
    let xml = report::junit::render(&report).unwrap();
    assert!(
        xml.contains("type=\"flaky\"") && xml.contains("flaky: 2 pass, 1 fail over 3 runs"),
        "{xml}"
    );

    // HTML: its own colour and the counts.
    let html = report::html::render(&report);
    assert!(html.contains("o-flaky") && html.contains("repetitions: 2 pass, 1 fail"));

    // --traces: a file for it, naming the counts.
    let dir = tempfile::tempdir().unwrap();
    report::traces::write_dir(&report, dir.path()).unwrap();
    let file = std::fs::read_to_string(report::traces::text_path(dir.path(), flaky)).unwrap();
    assert!(
        file.contains("outcome: flaky") && file.contains("flaky: 2 pass, 1 fail"),
        "{file}"
    );

    // --expect: a peer known to be flaky can be expected so; a change is a change.
    let path = dir.path().join("expected.txt");
    report::expect::write(&report, &path).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().contains(" flaky\n"));
    assert!(report::expect::compare(&report, &path).unwrap().matches());
    let mut settled = report.clone();
    settled.results[0].outcome = Outcome::Fail;
    let cmp = report::expect::compare(&settled, &path).unwrap();
    assert!(
        cmp.changed
            .iter()
            .any(|c| c.contains("expected flaky, got fail")),
        "{:?}",
        cmp.changed
    );
}

/// A proxy case carries its upstream leg beside its client leg: the JSON has
/// it under `legs` (and follows the schema), the text diagnosis names both
/// legs, the trace file has both traces under their labels, and the capture
/// one TCP stream each. The run is the in-process one of a proxy mutant that
/// tunnels after a refusal, so the case fails and every shape shows it.
#[test]
fn a_proxy_case_reports_both_legs() {
    use hijack_harness::check::proxy::run_proxy;
    use hijack_harness::results::Leg;
    use hijack_harness::subject::proxy::mutants::{ProxyFlaw, ProxyMutant};
    let case = hijack_harness::suite::tunnel::find("tunnel.refused-stays-http.426").unwrap();
    let run = run_proxy(&ProxyMutant(ProxyFlaw::TunnelsAfterRefusal), &case.scenario);
    let outcome = Outcome::of(case.level, &run.verdict);
    assert_eq!(outcome, Outcome::Fail);
    let mut result = CaseResult::new(
        &case,
        "proxy-mutant",
        Side::Server,
        outcome,
        run.verdict.clone(),
        run.trace.clone(),
        std::time::Duration::ZERO,
    );
    result.legs = Leg::upstream(vec![run.app.upstream.clone()]);
    let report = RunReport {
        results: vec![result],
        ..RunReport::default()
    };

    let doc: Value = serde_json::from_str(&report::json::render(&report)).unwrap();
    let errors = schema_errors(&doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let leg = &doc["results"][0]["legs"][0];
    assert_eq!(leg["label"], "proxy to upstream");
    assert!(
        leg["trace"]["events"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );

    let text = report::text::render(&report);
    assert!(text.contains("\n    client to proxy: c>s "), "{text}");
    assert!(text.contains("\n    proxy to upstream: c>s "), "{text}");

    let dir = tempfile::tempdir().unwrap();
    report::traces::write_dir(&report, dir.path()).unwrap();
    let stem = report::traces::file_stem(&report.results[0]);
    let file = std::fs::read_to_string(dir.path().join(format!("{stem}.txt"))).unwrap();
    let client = file
        .find("\ntrace, client to proxy:\n")
        .expect("the client leg");
    let upstream = file
        .find("\ntrace, proxy to upstream:\n")
        .expect("the upstream leg");
    assert!(client < upstream, "{file}");
    let pcap = std::fs::read(dir.path().join(format!("{stem}.pcap"))).unwrap();
    let lone = hijack_harness::wire::pcap::write(&run.trace, Vec::new()).unwrap();
    assert!(pcap.len() > lone.len() && pcap.starts_with(&lone));

    // Without its legs, the same result is the one-trace report it always was.
    let mut plain = report.clone();
    plain.results[0].legs.clear();
    let doc: Value = serde_json::from_str(&report::json::render(&plain)).unwrap();
    assert!(doc["results"][0].get("legs").is_none());
    assert!(!report::text::render(&plain).contains("proxy to upstream: c>s"));
}
