//! The pcap export gives back exactly the traced bytes: read with a pcap reader
//! and a packet parser (and with Wireshark's `tshark` when it is installed),
//! each direction reassembles into the stream the trace recorded.

use std::collections::BTreeMap;
use std::process::Command;

use bytes::Bytes;
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;

use hijack_harness::check::{run_client, run_server};
use hijack_harness::subject::mutants::{Flaw, Mutant};
use hijack_harness::subject::reference::{ReferenceClient, ReferenceServer};
use hijack_harness::suite;
use hijack_harness::wire::pcap::{self, CLIENT, SERVER};
use hijack_harness::wire::{Closing, Direction, Event, Trace};

/// What one direction of the file holds.
#[derive(Debug, Default)]
struct Reassembled {
    bytes: Vec<u8>,
    syn: usize,
    fin: usize,
    rst: usize,
}

/// Reads a pcap the way a capture tool would, checking that every packet's
/// sequence number continues where the previous one of its direction ended,
/// that every ACK acknowledges exactly what the other side had sent, and that
/// a pure ACK comes from the receiver of the packet before it (an ACK from the
/// sender itself would carry the same numbers, so only its direction tells).
fn reassemble(file: &[u8]) -> (Reassembled, Reassembled) {
    let mut reader = PcapReader::new(file).expect("a pcap header");
    let mut next: BTreeMap<u16, u32> = BTreeMap::new();
    let mut last_sender = None;
    let (mut c2s, mut s2c) = (Reassembled::default(), Reassembled::default());
    while let Some(packet) = reader.next_packet() {
        let packet = packet.expect("a pcap record");
        assert_eq!(
            packet.orig_len as usize,
            packet.data.len(),
            "truncated frame"
        );
        let sliced = SlicedPacket::from_ethernet(&packet.data).expect("an Ethernet frame");
        let Some(NetSlice::Ipv4(ip)) = sliced.net else {
            panic!("not IPv4")
        };
        let Some(TransportSlice::Tcp(tcp)) = sliced.transport else {
            panic!("not TCP")
        };
        let (from, to, side) = if tcp.source_port() == CLIENT.1 {
            (CLIENT, SERVER, &mut c2s)
        } else {
            (SERVER, CLIENT, &mut s2c)
        };
        assert_eq!(ip.header().source(), from.0);
        assert_eq!(ip.header().destination(), to.0);
        assert_eq!(tcp.destination_port(), to.1);
        let seq = tcp.sequence_number();
        if let Some(&expected) = next.get(&from.1) {
            assert_eq!(seq, expected, "sequence gap from port {}", from.1);
        }
        if tcp.ack() {
            assert_eq!(
                Some(&tcp.acknowledgment_number()),
                next.get(&to.1),
                "ACK does not match the bytes the peer sent"
            );
        }
        let payload = tcp.payload();
        let pure_ack = tcp.ack() && payload.is_empty() && !(tcp.syn() || tcp.fin() || tcp.rst());
        if pure_ack {
            assert_eq!(
                last_sender,
                Some(to.1),
                "a pure ACK from port {} does not answer the packet before it",
                from.1
            );
        }
        last_sender = Some(from.1);
        side.bytes.extend_from_slice(payload);
        side.syn += usize::from(tcp.syn());
        side.fin += usize::from(tcp.fin());
        side.rst += usize::from(tcp.rst());
        let consumed = payload.len() as u32 + u32::from(tcp.syn()) + u32::from(tcp.fin());
        next.insert(from.1, seq.wrapping_add(consumed));
    }
    (c2s, s2c)
}

fn fins(trace: &Trace, dir: Direction) -> usize {
    usize::from(trace.fin(dir).is_some())
}

fn check_roundtrip(name: &str, trace: &Trace) -> Vec<u8> {
    let file = pcap::write(trace, Vec::new()).expect("pcap written");
    assert_eq!(
        file,
        pcap::write(trace, Vec::new()).expect("pcap written"),
        "{name}: the same trace gives a different file"
    );
    let (c2s, s2c) = reassemble(&file);
    assert!(
        c2s.bytes == trace.stream(Direction::ClientToServer),
        "{name}: c>s differs"
    );
    assert!(
        s2c.bytes == trace.stream(Direction::ServerToClient),
        "{name}: s>c differs"
    );
    assert_eq!((c2s.syn, s2c.syn), (1, 1), "{name}: handshake");
    assert_eq!(c2s.fin, fins(trace, Direction::ClientToServer), "{name}");
    assert_eq!(s2c.fin, fins(trace, Direction::ServerToClient), "{name}");
    file
}

/// Every reference trace of the suite, and a failing mutant's, round-trips.
#[test]
fn every_suite_trace_reassembles_into_the_traced_bytes() {
    for case in suite::all() {
        if case.sides.server {
            let run = run_server(&ReferenceServer::default(), &case.scenario);
            check_roundtrip(&format!("{} server", case.id), &run.trace);
        }
        if case.sides.client {
            let run = run_client(&ReferenceClient::default(), &case.scenario);
            check_roundtrip(&format!("{} client", case.id), &run.trace);
        }
    }
    let case = suite::find("handoff.early-data.same-segment.1").expect("case");
    let mutant = Mutant::Server(Flaw::IgnoresReadAhead)
        .server()
        .expect("a server");
    check_roundtrip("mutant", &run_server(&mutant, &case.scenario).trace);
}

/// A reset, and a segment too large for one IPv4 packet, survive the export.
#[test]
fn resets_and_oversized_segments() {
    let big: Bytes = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let trace = Trace::from(vec![
        Event::Segment {
            dir: Direction::ClientToServer,
            index: 0,
            bytes: big,
        },
        Event::Fin {
            dir: Direction::ClientToServer,
            how: Closing::Shutdown,
        },
        Event::Reset {
            dir: Direction::ServerToClient,
        },
    ]);
    let file = check_roundtrip("synthetic", &trace);
    let (c2s, s2c) = reassemble(&file);
    assert_eq!((c2s.rst, s2c.rst), (0, 1));
}

/// `tshark -r FILE -qz follow,tcp,raw,0`: one hex line per packet, the second
/// node's (the server's) indented by a tab.
fn tshark_follow(path: &std::path::Path) -> Option<(Vec<u8>, Vec<u8>)> {
    let output = match Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(["-qz", "follow,tcp,raw,0"])
        .output()
    {
        Ok(output) => output,
        Err(e) if std::env::var_os("REQUIRE_TSHARK").is_some() => {
            panic!("REQUIRE_TSHARK is set, but tshark could not be run: {e}")
        }
        Err(e) => {
            println!(
                "skipped the tshark check: tshark could not be run ({e}); \
                 install it (Debian: apt-get install tshark) or set REQUIRE_TSHARK=1 to make this fail"
            );
            return None;
        }
    };
    assert!(
        output.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("tshark prints text");
    let (mut client, mut server) = (Vec::new(), Vec::new());
    let mut in_body = false;
    for line in stdout.lines() {
        if line.starts_with("Node 1:") {
            in_body = true;
            continue;
        }
        if !in_body || line.starts_with("====") || line.trim().is_empty() {
            continue;
        }
        let (to, hex) = match line.strip_prefix('\t') {
            Some(hex) => (&mut server, hex),
            None => (&mut client, line),
        };
        let hex = hex.trim();
        assert!(hex.len() % 2 == 0, "odd hex line from tshark: {line}");
        for i in (0..hex.len()).step_by(2) {
            to.push(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex from tshark"));
        }
    }
    Some((client, server))
}

/// Wireshark's own dissector agrees: "Follow TCP Stream" shows the traced bytes.
/// Skipped (with a line saying so) when `tshark` is not installed, unless
/// `REQUIRE_TSHARK` is set.
#[test]
fn tshark_follows_the_stream() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for id in [
        "handoff.head-split.every-point",
        "transfer.large-bidirectional",
    ] {
        let case = suite::find(id).expect("case");
        let run = run_server(&ReferenceServer::default(), &case.scenario);
        let path = dir.path().join(format!("{id}.pcap"));
        pcap::write_file(&run.trace, &path).expect("pcap written");
        let Some((client, server)) = tshark_follow(&path) else {
            return;
        };
        assert!(
            client == run.trace.stream(Direction::ClientToServer),
            "{id}: tshark's c>s differs ({} bytes, traced {})",
            client.len(),
            run.trace.stream(Direction::ClientToServer).len()
        );
        assert!(
            server == run.trace.stream(Direction::ServerToClient),
            "{id}: tshark's s>c differs ({} bytes, traced {})",
            server.len(),
            run.trace.stream(Direction::ServerToClient).len()
        );
        println!("tshark follow,tcp,raw reproduces {id} in both directions");
    }
}

/// Over TLS the capture is labelled: a pcapng with the same packets as the
/// pcap, the label as the file's comment, and on every packet that carries
/// data (and on no other), so Wireshark shows it beside the plaintext.
#[test]
fn a_labelled_capture_is_the_same_packets_with_comments() {
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
    use pcap_file::pcapng::blocks::section_header::SectionHeaderOption;
    use pcap_file::pcapng::{Block, PcapNgReader};

    let case = suite::find("handoff.head-split").expect("case");
    let run = run_server(&ReferenceServer::default(), &case.scenario);
    let label = "TLS to localhost, certificate verified; segments carried in TLS records";
    let plain = pcap::write(&run.trace, Vec::new()).expect("pcap written");
    let labelled = pcap::write_labelled(&run.trace, label, Vec::new()).expect("pcapng written");

    let mut frames = Vec::new();
    let mut reader = PcapReader::new(&plain[..]).expect("a pcap header");
    while let Some(packet) = reader.next_packet() {
        frames.push(packet.expect("a record").data.into_owned());
    }
    let mut reader = PcapNgReader::new(&labelled[..]).expect("a pcapng header");
    let section_comment = reader.section().options.iter().find_map(|o| match o {
        SectionHeaderOption::Comment(c) => Some(c.to_string()),
        _ => None,
    });
    assert_eq!(section_comment.as_deref(), Some(label));
    let mut packets = Vec::new();
    while let Some(block) = reader.next_block() {
        if let Block::EnhancedPacket(packet) = block.expect("a block") {
            let commented = packet
                .options
                .iter()
                .any(|o| matches!(o, EnhancedPacketOption::Comment(c) if c == label));
            packets.push((packet.data.into_owned(), commented));
        }
    }
    assert_eq!(packets.len(), frames.len());
    for ((data, commented), frame) in packets.iter().zip(&frames) {
        assert_eq!(data, frame);
        let sliced = SlicedPacket::from_ethernet(data).expect("an Ethernet frame");
        let Some(TransportSlice::Tcp(tcp)) = sliced.transport else {
            panic!("not TCP")
        };
        assert_eq!(
            *commented,
            !tcp.payload().is_empty(),
            "only data is labelled"
        );
    }
}

/// A proxy case's legs are one file with one TCP stream per leg: the client
/// leg between [`CLIENT`] and [`SERVER`] exactly as a lone trace's file, each
/// upstream leg between the proxy ([`SERVER`]'s address, a port of its own)
/// and [`pcap::UPSTREAM`], each reassembling into its own bytes.
#[test]
fn the_legs_of_a_proxy_case_are_one_stream_each() {
    use hijack_harness::check::proxy::run_proxy;
    use hijack_harness::subject::proxy::ReferenceProxy;
    let case =
        hijack_harness::suite::tunnel::find("tunnel.refused-stays-http.426").expect("the 426 case");
    let run = run_proxy(&ReferenceProxy, &case.scenario);
    let (client, upstream) = (&run.trace, &run.app.upstream);
    assert!(!upstream.events.is_empty());
    let both = pcap::write_streams(&[client, upstream], Vec::new()).expect("a pcap");
    let alone = pcap::write(client, Vec::new()).expect("a pcap");
    assert!(
        both.starts_with(&alone),
        "the first stream is the lone trace's file"
    );
    let mut reader = PcapReader::new(&both[..]).expect("a pcap header");
    type Ends = ([u8; 4], u16, [u8; 4], u16);
    let mut streams: BTreeMap<Ends, Vec<u8>> = BTreeMap::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.expect("a pcap record");
        let sliced = SlicedPacket::from_ethernet(&packet.data).expect("an Ethernet frame");
        let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(tcp))) =
            (sliced.net, sliced.transport)
        else {
            panic!("not TCP over IPv4")
        };
        let key = (
            ip.header().source(),
            tcp.source_port(),
            ip.header().destination(),
            tcp.destination_port(),
        );
        streams
            .entry(key)
            .or_default()
            .extend_from_slice(tcp.payload());
    }
    assert_eq!(
        streams.len(),
        4,
        "two streams, two directions each: {:?}",
        streams.keys()
    );
    let to_upstream = streams
        .iter()
        .find(|((_, _, to, port), _)| *to == pcap::UPSTREAM.0 && *port == pcap::UPSTREAM.1)
        .map(|((from, port, ..), bytes)| (*from, *port, bytes.clone()))
        .expect("a stream to the upstream");
    assert_eq!(to_upstream.0, SERVER.0, "the proxy opens the upstream leg");
    assert_ne!(to_upstream.1, CLIENT.1);
    assert_eq!(to_upstream.2, upstream.stream(Direction::ClientToServer));
}
