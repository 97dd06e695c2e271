//! How bytes travel between the peers, and the record of what travelled.

pub mod driver;
pub mod memory;
pub mod pcap;
mod stream_log;
pub mod tcp;
pub mod text;
pub mod trace;
pub mod transport;

pub use trace::{Closing, Direction, Event, Recorder, Side, Trace};
