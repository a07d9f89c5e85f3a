//! Engine.IO packets: the seven packet types and their encodings on one frame.
//!
//! This module owns the packet alone; joining packets into an HTTP body is
//! [`crate::payload`]'s job. Both protocol revisions share the text form
//! (`<type digit><data>`); they differ for binary data, which v4 sends raw on
//! WebSocket and as `b<base64>` in a text payload, while v3 prefixes the type
//! byte `4` on WebSocket and writes `b4<base64>` in a text payload.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;

use crate::config::ProtocolVersion;

/// An application message carried by a `message` packet (type `4`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    /// Text data; the bytes are always valid UTF-8.
    Text(Bytes),
    /// Binary data.
    Binary(Bytes),
}

impl Message {
    /// A text message from a string.
    pub fn text(s: impl Into<String>) -> Self {
        Message::Text(Bytes::from(s.into()))
    }

    /// A binary message.
    pub fn binary(b: impl Into<Bytes>) -> Self {
        Message::Binary(b.into())
    }

    /// The text, if this is a text message.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            // Text bytes are valid UTF-8 by construction; a failure here would be
            // our own bug, and it is reported as "not text" rather than a panic.
            Message::Text(b) => std::str::from_utf8(b).ok(),
            Message::Binary(_) => None,
        }
    }

    /// Length of the data in bytes.
    pub fn len(&self) -> usize {
        match self {
            Message::Text(b) | Message::Binary(b) => b.len(),
        }
    }

    /// Whether the message carries no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One Engine.IO packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    /// `0`: the handshake, with its JSON text.
    Open(Bytes),
    /// `1`: the transport is closing.
    Close,
    /// `2`: a heartbeat request, with optional text data (`probe` during an upgrade).
    Ping(Bytes),
    /// `3`: a heartbeat answer, echoing the ping's data.
    Pong(Bytes),
    /// `4`: an application message.
    Message(Message),
    /// `5`: the client switches to the probed transport.
    Upgrade,
    /// `6`: nothing; used to end a pending poll.
    Noop,
}

/// Why a packet could not be decoded. Every variant is the peer's fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// The frame was empty: there is no type.
    #[error("empty packet")]
    Empty,
    /// The type is not one of `0`..`6`.
    #[error("unknown packet type {0:#04x}")]
    UnknownType(u8),
    /// A `b` packet whose data is not valid base64.
    #[error("invalid base64 data")]
    InvalidBase64,
    /// A text frame that is not valid UTF-8.
    #[error("invalid UTF-8 in a text packet")]
    InvalidUtf8,
}

/// A WebSocket frame's content, before the WebSocket framing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WsFrame {
    /// A text frame (valid UTF-8).
    Text(Bytes),
    /// A binary frame.
    Binary(Bytes),
}

impl Packet {
    /// The type digit of this packet.
    pub fn type_digit(&self) -> u8 {
        match self {
            Packet::Open(_) => b'0',
            Packet::Close => b'1',
            Packet::Ping(_) => b'2',
            Packet::Pong(_) => b'3',
            Packet::Message(_) => b'4',
            Packet::Upgrade => b'5',
            Packet::Noop => b'6',
        }
    }

    /// Whether this packet carries binary data.
    pub fn is_binary(&self) -> bool {
        matches!(self, Packet::Message(Message::Binary(_)))
    }

    /// The packet's data size, used to account for buffered bytes.
    pub fn data_len(&self) -> usize {
        match self {
            Packet::Open(b) | Packet::Ping(b) | Packet::Pong(b) => b.len(),
            Packet::Message(m) => m.len(),
            _ => 0,
        }
    }

    /// Appends the text form of this packet to `out`, as it appears inside a
    /// polling payload. Binary data becomes base64: `b<base64>` in v4 and
    /// `b4<base64>` in v3.
    pub fn encode_text(&self, protocol: ProtocolVersion, out: &mut String) {
        match self {
            Packet::Message(Message::Binary(data)) => {
                out.push('b');
                if protocol == ProtocolVersion::V3 {
                    out.push('4');
                }
                BASE64.encode_string(data, out);
            }
            other => {
                out.push(char::from(other.type_digit()));
                if let Some(data) = other.text_data() {
                    out.push_str(data);
                }
            }
        }
    }

    /// The text form of this packet as a new string (see [`Packet::encode_text`]).
    pub fn to_text(&self, protocol: ProtocolVersion) -> String {
        let mut out = String::with_capacity(self.data_len() + 2);
        self.encode_text(protocol, &mut out);
        out
    }

    /// The WebSocket frame carrying this packet. In v4 binary data travels raw;
    /// in v3 it is prefixed with the type byte `4`.
    pub fn to_ws_frame(&self, protocol: ProtocolVersion) -> WsFrame {
        match self {
            Packet::Message(Message::Binary(data)) => match protocol {
                ProtocolVersion::V4 => WsFrame::Binary(data.clone()),
                ProtocolVersion::V3 => {
                    let mut out = Vec::with_capacity(data.len() + 1);
                    out.push(4);
                    out.extend_from_slice(data);
                    WsFrame::Binary(Bytes::from(out))
                }
            },
            Packet::Message(Message::Text(data)) => {
                let mut out = Vec::with_capacity(data.len() + 1);
                out.push(b'4');
                out.extend_from_slice(data);
                WsFrame::Text(Bytes::from(out))
            }
            other => WsFrame::Text(Bytes::from(other.to_text(protocol))),
        }
    }

    /// Text data of a non-binary packet.
    fn text_data(&self) -> Option<&str> {
        match self {
            Packet::Open(b)
            | Packet::Ping(b)
            | Packet::Pong(b)
            | Packet::Message(Message::Text(b)) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// Decodes the text form of a packet. `b` followed by base64 is a binary
    /// message; in v3 the base64 is preceded by its type digit.
    pub fn decode_text(text: &str, protocol: ProtocolVersion) -> Result<Packet, PacketError> {
        let first = *text.as_bytes().first().ok_or(PacketError::Empty)?;
        // Only ASCII types exist; checking first keeps the slice below on a char boundary.
        if !first.is_ascii() {
            return Err(PacketError::UnknownType(first));
        }
        let rest = &text[1..];
        if first == b'b' {
            // v3: "b" + type digit + base64; v4: "b" + base64 (always a message).
            let b64 = match protocol {
                ProtocolVersion::V4 => rest,
                ProtocolVersion::V3 => {
                    let digit = *rest.as_bytes().first().ok_or(PacketError::Empty)?;
                    if digit != b'4' {
                        return Err(PacketError::UnknownType(digit));
                    }
                    &rest[1..]
                }
            };
            let data = BASE64.decode(b64).map_err(|_| PacketError::InvalidBase64)?;
            return Ok(Packet::Message(Message::Binary(Bytes::from(data))));
        }
        let data = || Bytes::copy_from_slice(rest.as_bytes());
        Ok(match first {
            b'0' => Packet::Open(data()),
            b'1' => Packet::Close,
            b'2' => Packet::Ping(data()),
            b'3' => Packet::Pong(data()),
            b'4' => Packet::Message(Message::Text(data())),
            b'5' => Packet::Upgrade,
            b'6' => Packet::Noop,
            other => return Err(PacketError::UnknownType(other)),
        })
    }

    /// Decodes a WebSocket text frame (the bytes must be UTF-8).
    pub fn decode_ws_text(data: &[u8], protocol: ProtocolVersion) -> Result<Packet, PacketError> {
        let text = std::str::from_utf8(data).map_err(|_| PacketError::InvalidUtf8)?;
        Packet::decode_text(text, protocol)
    }

    /// Decodes a WebSocket binary frame: raw data in v4, type byte then data in v3.
    pub fn decode_ws_binary(data: Bytes, protocol: ProtocolVersion) -> Result<Packet, PacketError> {
        match protocol {
            ProtocolVersion::V4 => Ok(Packet::Message(Message::Binary(data))),
            ProtocolVersion::V3 => decode_typed_binary(data),
        }
    }
}

/// Decodes `<type byte><data>` as v3 sends binary packets (WebSocket frames and
/// XHR2 payload entries).
pub(crate) fn decode_typed_binary(data: Bytes) -> Result<Packet, PacketError> {
    let ty = *data.first().ok_or(PacketError::Empty)?;
    let rest = data.slice(1..);
    Ok(match ty {
        4 => Packet::Message(Message::Binary(rest)),
        1 => Packet::Close,
        2 => Packet::Ping(Bytes::new()),
        3 => Packet::Pong(Bytes::new()),
        5 => Packet::Upgrade,
        6 => Packet::Noop,
        other => return Err(PacketError::UnknownType(other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProtocolVersion::{V3, V4};

    #[test]
    fn text_forms_are_exact() {
        assert_eq!(Packet::Open(Bytes::from_static(b"{}")).to_text(V4), "0{}");
        assert_eq!(Packet::Close.to_text(V4), "1");
        assert_eq!(
            Packet::Ping(Bytes::from_static(b"probe")).to_text(V4),
            "2probe"
        );
        assert_eq!(Packet::Pong(Bytes::new()).to_text(V4), "3");
        assert_eq!(
            Packet::Message(Message::text("héllo")).to_text(V4),
            "4héllo"
        );
        assert_eq!(Packet::Upgrade.to_text(V3), "5");
        assert_eq!(Packet::Noop.to_text(V3), "6");
    }

    #[test]
    fn binary_in_text_differs_by_version() {
        let p = Packet::Message(Message::binary(vec![1u8, 2, 3, 4]));
        assert_eq!(p.to_text(V4), "bAQIDBA==");
        assert_eq!(p.to_text(V3), "b4AQIDBA==");
        assert_eq!(Packet::decode_text("bAQIDBA==", V4), Ok(p.clone()));
        assert_eq!(Packet::decode_text("b4AQIDBA==", V3), Ok(p));
    }

    #[test]
    fn ws_frames() {
        let bin = Packet::Message(Message::binary(vec![9u8, 8]));
        assert_eq!(
            bin.to_ws_frame(V4),
            WsFrame::Binary(Bytes::from_static(&[9, 8]))
        );
        assert_eq!(
            bin.to_ws_frame(V3),
            WsFrame::Binary(Bytes::from_static(&[4, 9, 8]))
        );
        assert_eq!(
            Packet::Message(Message::text("x")).to_ws_frame(V4),
            WsFrame::Text(Bytes::from_static(b"4x"))
        );
        assert_eq!(
            Packet::decode_ws_binary(Bytes::from_static(&[4, 7]), V3),
            Ok(Packet::Message(Message::binary(vec![7u8])))
        );
        assert_eq!(
            Packet::decode_ws_binary(Bytes::from_static(&[4, 7]), V4),
            Ok(Packet::Message(Message::binary(vec![4u8, 7])))
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert_eq!(Packet::decode_text("", V4), Err(PacketError::Empty));
        assert_eq!(
            Packet::decode_text("9", V4),
            Err(PacketError::UnknownType(b'9'))
        );
        assert_eq!(
            Packet::decode_text("é", V4),
            Err(PacketError::UnknownType(0xc3))
        );
        assert_eq!(
            Packet::decode_text("b!!", V4),
            Err(PacketError::InvalidBase64)
        );
        assert_eq!(Packet::decode_text("b", V3), Err(PacketError::Empty));
        assert_eq!(
            Packet::decode_text("b2AA==", V3),
            Err(PacketError::UnknownType(b'2'))
        );
        assert_eq!(
            Packet::decode_ws_text(&[0xff], V4),
            Err(PacketError::InvalidUtf8)
        );
        assert_eq!(
            Packet::decode_ws_binary(Bytes::new(), V3),
            Err(PacketError::Empty)
        );
        assert_eq!(
            Packet::decode_ws_binary(Bytes::from_static(&[9]), V3),
            Err(PacketError::UnknownType(9))
        );
    }

    #[test]
    fn decode_keeps_data() {
        assert_eq!(
            Packet::decode_text("2probe", V4),
            Ok(Packet::Ping(Bytes::from_static(b"probe")))
        );
        assert_eq!(
            Packet::decode_text("4", V4),
            Ok(Packet::Message(Message::text("")))
        );
        assert_eq!(Packet::decode_text("1junk", V4), Ok(Packet::Close));
    }
}
