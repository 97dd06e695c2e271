//! RFC 6455 WebSocket, as much as the harness needs to speak it and to judge it:
//! one codec for the black-box runner (which talks to WebSocket servers in other
//! processes) and for the message-level oracle (which judges WebSocket libraries
//! in this process).
//!
//! * [`frame`]: one frame on the wire, encoded and decoded, with the byte range it
//!   occupied, so a diagnosis can say where a frame travelled.
//! * [`message`]: frames reassembled into messages (fragmentation, control frames
//!   interleaved), each message keeping the ranges of its frames.
//! * [`handshake`]: the `Sec-WebSocket-Key` nonce (16 bytes drawn from the case's
//!   seed, so traces are deterministic), its `Sec-WebSocket-Accept`, and the masks
//!   a client puts on its frames (also from the seed).
//!
//! Nothing here does I/O: every function takes and returns bytes.

pub mod frame;
pub mod handshake;
pub mod message;

pub use frame::{
    DecodeError, Frame, Located, OpCode, Tail, decode, decode_all, decode_all_shared, whole,
};
pub(crate) use handshake::splitmix;
pub use handshake::{Masks, accept, key_from_seed, valid_key};
pub use message::{DECODE_LIMIT, Message, MessageError, Reassembler, messages, unframe};
