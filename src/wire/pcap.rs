//! A [`Trace`] as a pcap file, so that Wireshark's "Follow TCP Stream" shows the
//! conversation a run had.
//!
//! The in-memory wire has no packets, addresses or sequence numbers; this module
//! makes them up, consistently: one synthetic IPv4/TCP connection from
//! [`CLIENT`] to [`SERVER`] (addresses from TEST-NET-1, RFC 5737, which exist
//! only inside the file: nothing is sent anywhere), opened by a three-way
//! handshake, then one packet per traced segment with sequence and
//! acknowledgement numbers that count exactly the traced bytes, a pure ACK from
//! the receiver after each, and `FIN` or `RST` where the trace has them. A segment
//! larger than [`MAX_PAYLOAD`] (what fits in one IPv4 packet) becomes several
//! packets. The segment boundaries of the trace are therefore packet boundaries in
//! the file, which is what makes a split head visible in Wireshark.
//!
//! Timestamps are fixed and derived from the event's index (one millisecond per
//! event from [`EPOCH`], one microsecond per packet inside an event), so the same
//! trace always gives the same file, byte for byte. The hijack and application
//! events have no packet (pcap has no comments); read them in the text trace.
//!
//! A run with several connections (a proxy case: the client leg, then each
//! upstream leg) is one file with one TCP stream per connection
//! ([`write_streams`]): the first from [`CLIENT`] to [`SERVER`] as above, each
//! further one from [`SERVER`] (the proxy, on port `49152 + n`) to [`UPSTREAM`].
//! The streams follow one another in the file, each after the last packet of
//! the one before: the traces do not record how the legs interleaved in time.
//!
//! A trace whose segments need a label (plaintext that travelled in TLS
//! records) is written by [`write_labelled`] as pcapng instead, the format
//! with comments: the label is the file's comment and every data packet's,
//! which Wireshark shows beside the packet (`pkt_comment`), so nobody mistakes
//! the synthetic plaintext for what was on the wire.
//!
//! ```no_run
//! # fn demo(trace: &hijack_harness::wire::Trace) -> Result<(), hijack_harness::wire::pcap::PcapExportError> {
//! let file = std::fs::File::create("run.pcap")?;
//! hijack_harness::wire::pcap::write(trace, file)?;
//! # Ok(()) }
//! ```

use std::io::Write;
use std::time::Duration;

use std::borrow::Cow;

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::{PcapNgBlock, PcapNgWriter};
use pcap_file::{DataLink, Endianness, TsResolution};

use super::trace::{Direction, Event, Trace};

/// The client's synthetic address and port (TEST-NET-1, RFC 5737).
pub const CLIENT: ([u8; 4], u16) = ([192, 0, 2, 1], 49152);
/// The server's synthetic address and port (TEST-NET-1, RFC 5737).
pub const SERVER: ([u8; 4], u16) = ([192, 0, 2, 2], 80);
/// The upstream's synthetic address and port behind a proxy (TEST-NET-1, RFC 5737).
pub const UPSTREAM: ([u8; 4], u16) = ([192, 0, 2, 3], 80);
/// The client's initial sequence number.
pub const CLIENT_ISN: u32 = 1_000;
/// The server's initial sequence number.
pub const SERVER_ISN: u32 = 5_000_000;
/// The largest TCP payload of one packet: an IPv4 packet is at most 65535 bytes,
/// minus 20 for the IPv4 header and 20 for the TCP header.
pub const MAX_PAYLOAD: usize = 65_535 - 20 - 20;
/// The time of the first packet, seconds after the Unix epoch (2023-11-14).
pub const EPOCH: u64 = 1_700_000_000;
/// The snapshot length written in the file header: more than the largest frame.
const SNAPLEN: u32 = 0x0004_0000;
const WINDOW: u16 = 65_535;
const TTL: u8 = 64;

/// Why a pcap could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PcapExportError {
    /// The destination failed.
    #[error("writing the pcap failed: {0}")]
    Io(#[from] std::io::Error),
    /// The pcap encoder failed.
    #[error("pcap encoding failed: {0}")]
    Pcap(#[from] pcap_file::PcapError),
    /// A packet could not be built.
    #[error("building a packet failed: {0}")]
    Packet(String),
}

/// TCP flags of one synthetic packet.
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    syn: bool,
    ack: bool,
    psh: bool,
    fin: bool,
    rst: bool,
}

/// One end's sequence state.
#[derive(Debug, Clone, Copy)]
struct End {
    /// The next sequence number it sends.
    next: u32,
}

/// Where the packets go: a classic pcap, or a pcapng whose data packets carry a comment.
enum Sink<W: Write> {
    Pcap(PcapWriter<W>),
    PcapNg(PcapNgWriter<W>, String),
}

impl<W: Write> Sink<W> {
    fn packet(
        &mut self,
        timestamp: Duration,
        frame: Vec<u8>,
        data: bool,
    ) -> Result<(), PcapExportError> {
        let len = frame.len() as u32;
        match self {
            Sink::Pcap(out) => {
                out.write_packet(&PcapPacket::new_owned(timestamp, len, frame))?;
            }
            Sink::PcapNg(out, label) => {
                let options = if data {
                    vec![EnhancedPacketOption::Comment(Cow::Owned(label.clone()))]
                } else {
                    Vec::new()
                };
                let block = EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp,
                    original_len: len,
                    data: Cow::Owned(frame),
                    options,
                };
                out.write_block(&block.into_block())?;
            }
        }
        Ok(())
    }

    fn into_writer(self) -> W {
        match self {
            Sink::Pcap(out) => out.into_writer(),
            Sink::PcapNg(out, _) => out.into_inner(),
        }
    }
}

struct Builder<W: Write> {
    out: Sink<W>,
    /// The connection's two ends: the one that opened it, and the other.
    ends: [([u8; 4], u16); 2],
    client: End,
    server: End,
    event: usize,
    packet_in_event: u64,
}

/// A locally administered MAC address (the `02` bit) for `ip`, fixed.
fn mac(ip: [u8; 4]) -> [u8; 6] {
    [0x02, 0, 0, 0, 0, ip[3]]
}

impl<W: Write> Builder<W> {
    fn stamp(&mut self) -> Duration {
        let at = Duration::from_secs(EPOCH)
            + Duration::from_millis(self.event as u64)
            + Duration::from_micros(self.packet_in_event);
        self.packet_in_event += 1;
        at
    }

    /// Sends one packet from the writer of `dir`; advances its sequence number.
    fn packet(
        &mut self,
        dir: Direction,
        flags: Flags,
        payload: &[u8],
    ) -> Result<(), PcapExportError> {
        let [client, server] = self.ends;
        let (from, to) = match dir {
            Direction::ClientToServer => (client, server),
            Direction::ServerToClient => (server, client),
        };
        let (mac_from, mac_to) = (mac(from.0), mac(to.0));
        let (seq, ack) = match dir {
            Direction::ClientToServer => (self.client.next, self.server.next),
            Direction::ServerToClient => (self.server.next, self.client.next),
        };
        let mut tcp = PacketBuilder::ethernet2(mac_from, mac_to)
            .ipv4(from.0, to.0, TTL)
            .tcp(from.1, to.1, seq, WINDOW);
        if flags.syn {
            tcp = tcp.syn();
        }
        if flags.ack {
            tcp = tcp.ack(ack);
        }
        if flags.psh {
            tcp = tcp.psh();
        }
        if flags.fin {
            tcp = tcp.fin();
        }
        if flags.rst {
            tcp = tcp.rst();
        }
        let mut frame = Vec::with_capacity(tcp.size(payload.len()));
        tcp.write(&mut frame, payload)
            .map_err(|e| PcapExportError::Packet(e.to_string()))?;
        let consumed = payload.len() as u32 + u32::from(flags.syn) + u32::from(flags.fin);
        let sender = match dir {
            Direction::ClientToServer => &mut self.client,
            Direction::ServerToClient => &mut self.server,
        };
        sender.next = sender.next.wrapping_add(consumed);
        let timestamp = self.stamp();
        self.out.packet(timestamp, frame, !payload.is_empty())
    }

    fn ack(&mut self, dir: Direction) -> Result<(), PcapExportError> {
        self.packet(
            dir,
            Flags {
                ack: true,
                ..Flags::default()
            },
            &[],
        )
    }
}

/// Writes `trace` to `out` as a classic pcap file (Ethernet link type).
///
/// Returns `out` when done, so a caller writing into a `Vec<u8>` gets its bytes back.
pub fn write<W: Write>(trace: &Trace, out: W) -> Result<W, PcapExportError> {
    write_streams(&[trace], out)
}

/// Writes `streams` to `out` as a classic pcap file: one TCP stream each, the
/// first from [`CLIENT`] to [`SERVER`], the others from [`SERVER`] to
/// [`UPSTREAM`] (a proxy's upstream legs).
pub fn write_streams<W: Write>(streams: &[&Trace], out: W) -> Result<W, PcapExportError> {
    let header = PcapHeader {
        snaplen: SNAPLEN,
        datalink: DataLink::ETHERNET,
        ts_resolution: TsResolution::MicroSecond,
        endianness: Endianness::Little,
        ..PcapHeader::default()
    };
    packets(streams, Sink::Pcap(PcapWriter::with_header(out, header)?))
}

/// Writes `trace` to `out` as pcapng, the same packets as [`write()`], with
/// `label` as the file's comment and as the comment of every packet that
/// carries data (what those bytes were on the real wire: "plaintext carried
/// in TLS records").
pub fn write_labelled<W: Write>(trace: &Trace, label: &str, out: W) -> Result<W, PcapExportError> {
    write_streams_labelled(&[trace], label, out)
}

/// [`write_streams`] as pcapng, with `label` as in [`write_labelled`].
pub fn write_streams_labelled<W: Write>(
    streams: &[&Trace],
    label: &str,
    out: W,
) -> Result<W, PcapExportError> {
    let section = SectionHeaderBlock {
        endianness: Endianness::Little,
        options: vec![SectionHeaderOption::Comment(Cow::Owned(label.to_string()))],
        ..SectionHeaderBlock::default()
    };
    let mut writer = PcapNgWriter::with_section_header(out, section)?;
    let interface = InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: SNAPLEN,
        // Timestamps are written in nanoseconds: say so (the default is microseconds).
        options: vec![InterfaceDescriptionOption::IfTsResol(9)],
    };
    writer.write_block(&interface.into_block())?;
    packets(streams, Sink::PcapNg(writer, label.to_string()))
}

/// Writes the packets of every stream into `out`, one after the other.
fn packets<W: Write>(streams: &[&Trace], out: Sink<W>) -> Result<W, PcapExportError> {
    let mut b = Builder {
        out,
        ends: [CLIENT, SERVER],
        client: End { next: CLIENT_ISN },
        server: End { next: SERVER_ISN },
        event: 0,
        packet_in_event: 0,
    };
    for (n, trace) in streams.iter().enumerate() {
        if n > 0 {
            let port = CLIENT.1.wrapping_add(n as u16);
            b.ends = [(SERVER.0, port), UPSTREAM];
            b.client = End { next: CLIENT_ISN };
            b.server = End { next: SERVER_ISN };
            b.event += 1;
        }
        stream(&mut b, trace)?;
    }
    Ok(b.out.into_writer())
}

/// Writes one TCP stream: the handshake, then the packets of `trace`.
fn stream<W: Write>(b: &mut Builder<W>, trace: &Trace) -> Result<(), PcapExportError> {
    let first = b.event;
    b.packet_in_event = 0;
    // The three-way handshake, before event 0.
    b.packet(
        Direction::ClientToServer,
        Flags {
            syn: true,
            ..Flags::default()
        },
        &[],
    )?;
    b.packet(
        Direction::ServerToClient,
        Flags {
            syn: true,
            ack: true,
            ..Flags::default()
        },
        &[],
    )?;
    b.ack(Direction::ClientToServer)?;
    for (index, event) in trace.events.iter().enumerate() {
        b.event = first + index + 1;
        b.packet_in_event = 0;
        match event {
            Event::Segment { dir, bytes, .. } => {
                for chunk in bytes.chunks(MAX_PAYLOAD) {
                    b.packet(
                        *dir,
                        Flags {
                            ack: true,
                            psh: true,
                            ..Flags::default()
                        },
                        chunk,
                    )?;
                }
                b.ack(dir.reverse())?;
            }
            Event::Fin { dir, .. } => {
                b.packet(
                    *dir,
                    Flags {
                        ack: true,
                        fin: true,
                        ..Flags::default()
                    },
                    &[],
                )?;
                b.ack(dir.reverse())?;
            }
            Event::Reset { dir } => b.packet(
                *dir,
                Flags {
                    ack: true,
                    rst: true,
                    ..Flags::default()
                },
                &[],
            )?,
            Event::Hijack { .. } | Event::AppShutdown { .. } | Event::AppEnd { .. } => {}
        }
    }
    b.event = first + trace.events.len();
    Ok(())
}

/// Writes `trace` as a pcap file at `path`.
pub fn write_file(trace: &Trace, path: &std::path::Path) -> Result<(), PcapExportError> {
    write_file_labelled(trace, None, path)
}

/// Writes `trace` as a pcap file at `path`; as pcapng with `label` when one is
/// given ([`write_labelled`]).
pub fn write_file_labelled(
    trace: &Trace,
    label: Option<&str>,
    path: &std::path::Path,
) -> Result<(), PcapExportError> {
    write_file_streams(&[trace], label, path)
}

/// Writes `streams` as one pcap file at `path` ([`write_streams`]); as pcapng
/// with `label` when one is given.
pub fn write_file_streams(
    streams: &[&Trace],
    label: Option<&str>,
    path: &std::path::Path,
) -> Result<(), PcapExportError> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut file = match label {
        None => write_streams(streams, file)?,
        Some(label) => write_streams_labelled(streams, label, file)?,
    };
    file.flush()?;
    tracing::debug!(path = %path.display(), streams = streams.len(), "pcap written");
    Ok(())
}
