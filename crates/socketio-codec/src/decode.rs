//! Reading packets from the frames of one connection.
//!
//! This module owns [`Decoder`] and [`Limits`]: payload validation (socket.io-parser
//! 4.2.7's `isPayloadValid`), and the reassembly of BINARY_EVENT and BINARY_ACK
//! packets from their text frame and the binary frames that follow. The header is
//! read by `header`, the JSON by `json_parse`.

use bytes::Bytes;

use crate::error::DecodeError;
use crate::header;
use crate::json_parse::{self, ParseError};
use crate::packet::{Packet, PacketKind, ProtocolVersion};
use crate::value::Value;

/// "These strings must not be used as event names, as they have a special meaning."
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Bounds on what a peer may send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Attachments one BINARY_EVENT or BINARY_ACK may declare (the reference's
    /// `maxAttachments`, 10 by default).
    pub max_attachments: usize,
    /// Arrays and objects nested in one payload, the event's own argument array
    /// included. The reference has no such bound and accepts arguments 1,000
    /// levels deep; the default, 1024, accepts them too.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_attachments: 10,
            max_depth: 1024,
        }
    }
}

/// Decodes the frames of one connection into packets.
///
/// Feed every text frame to [`decode_text`](Decoder::decode_text) and every binary
/// frame to [`decode_binary`](Decoder::decode_binary), in arrival order. A
/// BINARY_EVENT or BINARY_ACK gives `None` until its last attachment arrives. After
/// an error the decoder is reset; the reference closes the connection.
///
/// ```
/// use bytes::Bytes;
/// use socketio_codec::{Decoder, Limits, ProtocolVersion, Value};
/// let mut d = Decoder::new(ProtocolVersion::V5, Limits::default());
/// assert_eq!(d.decode_text(Bytes::from_static(br#"51-["up",{"_placeholder":true,"num":0}]"#)), Ok(None));
/// let p = d.decode_binary(Bytes::from_static(&[1, 2])).ok().flatten();
/// assert_eq!(p.map(|p| p.args().to_vec()), Some(vec![Value::from(vec![1u8, 2])]));
/// ```
#[derive(Debug)]
pub struct Decoder {
    version: ProtocolVersion,
    limits: Limits,
    pending: Option<Pending>,
}

/// A binary packet waiting for its attachments.
#[derive(Debug)]
struct Pending {
    packet: Packet,
    expected: usize,
    buffers: Vec<Bytes>,
}

impl Decoder {
    /// A decoder for a peer speaking `version`.
    pub fn new(version: ProtocolVersion, limits: Limits) -> Decoder {
        Decoder {
            version,
            limits,
            pending: None,
        }
    }

    /// The protocol version this decoder reads.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// Decodes a text frame: the packet, or `None` when it announces attachments.
    pub fn decode_text(&mut self, text: Bytes) -> Result<Option<Packet>, DecodeError> {
        // "got plaintext data when reconstructing a packet"
        if self.pending.take().is_some() {
            return Err(DecodeError::UnexpectedText);
        }
        let text = std::str::from_utf8(&text).map_err(|_| DecodeError::InvalidUtf8)?;
        let header = header::parse(text, self.limits.max_attachments)?;

        let payload = match header.payload {
            None => None,
            Some(json) => Some(json_parse::parse(json, self.limits.max_depth).map_err(
                |e| match e {
                    ParseError::Syntax { offset } => DecodeError::InvalidJson { offset },
                    ParseError::TooDeep => DecodeError::NestingTooDeep {
                        max: self.limits.max_depth,
                    },
                },
            )?),
        };
        let kind = self.validate(header.kind, payload)?;
        let packet = Packet {
            kind,
            nsp: header.nsp.to_owned(),
            id: header.id,
        };

        if header.attachments == 0 {
            return Ok(Some(packet));
        }
        self.pending = Some(Pending {
            packet,
            expected: header.attachments,
            buffers: Vec::with_capacity(header.attachments),
        });
        Ok(None)
    }

    /// Decodes a binary frame: the completed packet once the last attachment is in.
    /// The bytes are shared, not copied, into the packet's [`Value::Binary`].
    pub fn decode_binary(&mut self, data: Bytes) -> Result<Option<Packet>, DecodeError> {
        // "got binary data when not reconstructing a packet"
        let Some(pending) = self.pending.as_mut() else {
            return Err(DecodeError::UnexpectedBinary);
        };
        pending.buffers.push(data);
        if pending.buffers.len() < pending.expected {
            return Ok(None);
        }

        let Some(Pending {
            mut packet,
            buffers,
            ..
        }) = self.pending.take()
        else {
            return Err(DecodeError::UnexpectedBinary);
        };
        if let PacketKind::Event(data) | PacketKind::Ack(data) = &mut packet.kind {
            for value in data {
                reconstruct(value, &buffers)?;
            }
        }
        Ok(Some(packet))
    }

    /// socket.io-parser's `isPayloadValid`, for the type digit `kind`.
    fn validate(&self, kind: u8, payload: Option<Value>) -> Result<PacketKind, DecodeError> {
        match (kind, payload) {
            // "CONNECT: isObject(payload)"; no payload at all is allowed.
            (0, None) => Ok(PacketKind::Connect(None)),
            (0, Some(v @ Value::Object(_))) => Ok(PacketKind::Connect(Some(v))),
            (0, Some(_)) => Err(DecodeError::InvalidConnectPayload),

            // "DISCONNECT: payload === undefined"
            (1, None) => Ok(PacketKind::Disconnect),
            (1, Some(_)) => Err(DecodeError::InvalidDisconnectPayload),

            // "EVENT: Array.isArray(payload) && (typeof payload[0] === "number" ||
            // (typeof payload[0] === "string" && RESERVED_EVENTS.indexOf(payload[0]) === -1))"
            (2 | 5, None) => Ok(PacketKind::Event(Vec::new())),
            (2 | 5, Some(Value::Array(data))) => match data.first() {
                Some(Value::Number(_)) => Ok(PacketKind::Event(data)),
                Some(Value::String(name)) if RESERVED_EVENTS.contains(&name.as_str()) => {
                    Err(DecodeError::ReservedEventName(name.clone()))
                }
                Some(Value::String(_)) => Ok(PacketKind::Event(data)),
                _ => Err(DecodeError::InvalidEventPayload),
            },
            (2 | 5, Some(_)) => Err(DecodeError::InvalidEventPayload),

            // "ACK: Array.isArray(payload)"
            (3 | 6, None) => Ok(PacketKind::Ack(Vec::new())),
            (3 | 6, Some(Value::Array(data))) => Ok(PacketKind::Ack(data)),
            (3 | 6, Some(_)) => Err(DecodeError::InvalidAckPayload),

            // "CONNECT_ERROR: typeof payload === "string" || isObject(payload)"; a
            // socket.io 2.x server sends any value there.
            (4, None) => Ok(PacketKind::ConnectError(Value::Null)),
            (4, Some(v @ (Value::String(_) | Value::Object(_)))) => Ok(PacketKind::ConnectError(v)),
            (4, Some(v)) if self.version == ProtocolVersion::V4 => Ok(PacketKind::ConnectError(v)),
            (4, Some(_)) => Err(DecodeError::InvalidConnectErrorPayload),

            (other, _) => Err(DecodeError::UnknownPacketType(other.to_string())),
        }
    }
}

/// Replaces every `{"_placeholder":true,"num":N}` inside `value` with attachment N
/// (socket.io-parser's `reconstructPacket`). Recursive: depth is bounded by
/// `Limits::max_depth` at parse time.
fn reconstruct(value: &mut Value, buffers: &[Bytes]) -> Result<(), DecodeError> {
    match value {
        Value::Object(_) if value.get("_placeholder") == Some(&Value::Bool(true)) => {
            // "typeof data.num === "number" && data.num >= 0 && data.num < buffers.length"
            let buffer = value
                .get("num")
                .and_then(Value::as_number)
                .map(|n| n.as_f64())
                .filter(|n| *n >= 0.0 && n.fract() == 0.0)
                .and_then(|n| buffers.get(n as usize))
                .ok_or(DecodeError::PlaceholderOutOfRange)?;
            *value = Value::Binary(buffer.clone());
        }
        Value::Object(fields) => {
            for (_, v) in fields {
                reconstruct(v, buffers)?;
            }
        }
        Value::Array(items) => {
            for v in items {
                reconstruct(v, buffers)?;
            }
        }
        _ => {}
    }
    Ok(())
}
