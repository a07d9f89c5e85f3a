//! Socket.IO packet codec: protocol v5 (socket.io 3.x and 4.x) and v4 (socket.io
//! 2.x), with binary attachments. No runtime and no IO inside: bytes in, packets
//! out, and back.
//!
//! The encoder writes byte for byte what the reference encoder (npm
//! socket.io-parser 4.2.7) writes for the same packet: `JSON.stringify`'s key order
//! (array-index keys first), number formatting and string escaping, and
//! placeholders numbered depth-first. The decoder accepts and refuses what the
//! reference decoder does, with these deliberate exceptions:
//! - a string escape naming a lone surrogate (`"\ud800"`) decodes to U+FFFD, since a
//!   Rust `String` cannot hold one;
//! - an ack id that is not a whole number a `u64` holds (the reference keeps `NaN`
//!   or a rounded double) is refused;
//! - a placeholder with a fractional `num` is refused (the reference turns it into
//!   `undefined`);
//! - nesting is bounded by [`Limits::max_depth`].
//!
//! The `msgpack` feature adds the MessagePack parser (`msgpack` module), wire-
//! compatible with npm socket.io-msgpack-parser.
//!
//! ```
//! use bytes::Bytes;
//! use socketio_codec::{Decoder, Limits, Packet, ProtocolVersion, Value};
//!
//! let packet = Packet::event("/chat", "message", vec![Value::from("hi")], Some(1));
//! let encoded = packet.encode(ProtocolVersion::V5);
//! assert_eq!(&encoded.text[..], br#"2/chat,1["message","hi"]"#);
//!
//! let mut decoder = Decoder::new(ProtocolVersion::V5, Limits::default());
//! assert_eq!(decoder.decode_text(encoded.text), Ok(Some(packet)));
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod decode;
mod encode;
mod error;
mod header;
mod js;
mod json_parse;
mod json_write;
#[cfg(feature = "msgpack")]
pub mod msgpack;
mod number;
mod packet;
mod value;

pub use decode::{Decoder, Limits, RESERVED_EVENTS};
pub use encode::Encoded;
pub use error::DecodeError;
pub use number::Number;
pub use packet::{Packet, PacketKind, ProtocolVersion, split_query};
pub use value::Value;
