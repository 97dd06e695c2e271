//! The WebSocket fuzz corpus (`corpus/ws_server/`, `corpus/ws_client/`): every
//! committed input replays through the target bodies on stable; the
//! `finding-*` inputs still fail their library; every WebSocket mutant is
//! caught by some input. Seeds are written from the named cases with
//! `cargo test --test websocket_corpus -- --ignored generate_ws_seeds`.

use std::fs;
use std::path::{Path, PathBuf};

use hijack_harness::check::websocket::{run_client, run_server};
use hijack_harness::fuzzing::websocket::encoding::{decode, encode};
use hijack_harness::fuzzing::websocket::{client_subject, server_subject, ws_client, ws_server};
use hijack_harness::scenario::websocket::named;
use hijack_harness::subject::websocket::mutants::MessageMutant;
use hijack_harness::subject::websocket::soketto::{SokettoClient, SokettoServer};
use hijack_harness::wire::Side;

fn dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

fn files(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(dir(target))
        .unwrap_or_else(|e| panic!("corpus/{target}: {e}"))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let name = path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            (name, fs::read(&path).expect("a readable corpus file"))
        })
        .collect();
    out.sort();
    out
}

/// The library bytes of each target (module doc of `fuzzing::websocket`).
const SERVERS: [(u8, &str); 4] = [
    (0, "tungstenite"),
    (1, "tungstenite-hdr"),
    (2, "soketto"),
    (3, "actix"),
];
const CLIENTS: [(u8, &str); 3] = [(0, "tungstenite"), (1, "soketto"), (2, "awc")];

/// Every seed file: each named case for each library, and the finding.
fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, scenario) in named::all() {
        let bytes = encode(&scenario).expect("named cases encode");
        let finding = name == "pong-between-fragments";
        for (target, libraries) in [("ws_server", &SERVERS[..]), ("ws_client", &CLIENTS[..])] {
            for &(b, library) in libraries {
                let mut input = vec![b];
                input.extend_from_slice(&bytes);
                let file = if finding && library == "soketto" {
                    "finding-soketto-pong-between-fragments".to_string()
                } else {
                    format!("seed-{name}-{library}")
                };
                out.push((target, file, input));
            }
        }
    }
    out
}

#[test]
#[ignore = "writes corpus/ws_*; run after changing the named cases"]
fn generate_ws_seeds() {
    for (target, file, bytes) in seeds() {
        fs::create_dir_all(dir(target)).expect("corpus dir");
        fs::write(dir(target).join(file), bytes).expect("write seed");
    }
}

#[test]
fn ws_seeds_are_current() {
    for (target, file, bytes) in seeds() {
        let on_disk = fs::read(dir(target).join(&file)).unwrap_or_default();
        assert_eq!(
            on_disk, bytes,
            "corpus/{target}/{file} is stale: run generate_ws_seeds"
        );
    }
}

#[test]
fn replay_ws_server() {
    for (_, bytes) in files("ws_server") {
        ws_server(&bytes);
    }
}

#[test]
fn replay_ws_client() {
    for (_, bytes) in files("ws_client") {
        ws_client(&bytes);
    }
}

/// The targets skip the known soketto finding; its inputs must still fail soketto.
#[test]
fn ws_findings_in_the_corpus_still_fail() {
    let mut checked = 0;
    for (target, (name, bytes)) in ["ws_server", "ws_client"]
        .into_iter()
        .flat_map(|t| files(t).into_iter().map(move |f| (t, f)))
        .filter(|(_, (name, _))| name.starts_with("finding-"))
    {
        let scenario = decode(&bytes[1..]);
        let run = match target {
            "ws_server" => {
                assert_eq!(server_subject(bytes[0]).name(), "soketto");
                run_server(&SokettoServer, &scenario)
            }
            _ => {
                assert_eq!(client_subject(bytes[0]).name(), "soketto");
                run_client(&SokettoClient, &scenario)
            }
        };
        assert!(
            !run.passed(),
            "soketto no longer fails {name}: remove the finding\n{run}"
        );
        checked += 1;
    }
    assert_eq!(checked, 2);
}

/// Each WebSocket mutant fails on some committed input of its side.
#[test]
fn ws_corpus_catches_every_mutant() {
    let client = files("ws_client");
    let server = files("ws_server");
    for mutant in MessageMutant::ALL {
        let caught = match mutant.side() {
            Side::Client => client
                .iter()
                .any(|(_, b)| !run_client(&mutant, &decode(&b[1..])).passed()),
            Side::Server => server
                .iter()
                .any(|(_, b)| !run_server(&mutant, &decode(&b[1..])).passed()),
        };
        assert!(caught, "no corpus input catches {}", mutant.name());
    }
}
