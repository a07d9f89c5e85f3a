//! Polling payloads of protocol v4: several packets in one HTTP body.
//!
//! The spec: "the packets are separated by the record separator character
//! (`\x1e`)", and binary packets are "base64 encoded and prefixed with a `b`
//! character". The v3 payload forms live in [`crate::payload_v3`].

use crate::config::ProtocolVersion;
use crate::packet::{Packet, PacketError};

/// The record separator joining packets in a v4 payload.
pub const SEPARATOR: char = '\x1e';

/// Packets decoded from a payload, and the error that stopped decoding, if any.
///
/// The packets before a bad one are kept (the reference processes them too);
/// the error then closes the session with `parse error`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Packets decoded before any error, in order.
    pub packets: Vec<Packet>,
    /// The error that stopped decoding.
    pub error: Option<PacketError>,
}

/// Encodes packets as a v4 polling payload.
pub fn encode_v4(packets: &[Packet]) -> String {
    let capacity = packets.iter().map(|p| p.data_len() * 4 / 3 + 4).sum();
    let mut out = String::with_capacity(capacity);
    for (i, packet) in packets.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        packet.encode_text(ProtocolVersion::V4, &mut out);
    }
    out
}

/// Decodes a v4 polling payload (an HTTP POST body).
pub fn decode_v4(body: &[u8]) -> Decoded {
    let mut decoded = Decoded::default();
    let Ok(text) = std::str::from_utf8(body) else {
        decoded.error = Some(PacketError::InvalidUtf8);
        return decoded;
    };
    for part in text.split(SEPARATOR) {
        match Packet::decode_text(part, ProtocolVersion::V4) {
            Ok(packet) => decoded.packets.push(packet),
            Err(e) => {
                decoded.error = Some(e);
                break;
            }
        }
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Message;
    use bytes::Bytes;

    #[test]
    fn encodes_with_record_separator() {
        let packets = [
            Packet::Message(Message::text("hello")),
            Packet::Message(Message::binary(vec![1u8, 2, 3, 4])),
            Packet::Ping(Bytes::new()),
        ];
        assert_eq!(encode_v4(&packets), "4hello\x1ebAQIDBA==\x1e2");
        assert_eq!(encode_v4(&[]), "");
    }

    #[test]
    fn decodes_packets_in_order() {
        let d = decode_v4(b"4hello\x1ebAQIDBA==\x1e3");
        assert_eq!(d.error, None);
        assert_eq!(
            d.packets,
            vec![
                Packet::Message(Message::text("hello")),
                Packet::Message(Message::binary(vec![1u8, 2, 3, 4])),
                Packet::Pong(Bytes::new()),
            ]
        );
    }

    #[test]
    fn stops_at_first_bad_packet() {
        let d = decode_v4(b"4a\x1e\x1e4b");
        assert_eq!(d.packets, vec![Packet::Message(Message::text("a"))]);
        assert_eq!(d.error, Some(PacketError::Empty));
        let d = decode_v4(b"4a\xff");
        assert!(d.packets.is_empty());
        assert_eq!(d.error, Some(PacketError::InvalidUtf8));
        assert_eq!(decode_v4(b"").error, Some(PacketError::Empty));
    }
}
