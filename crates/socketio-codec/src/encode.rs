//! Writing a [`Packet`] as one text frame plus its binary attachments.
//!
//! This module owns the encoder: the header (`<type>[<n>-][<nsp>,][<id>]`), the
//! choice of BINARY_EVENT / BINARY_ACK, and the protocol v4 form of CONNECT_ERROR.
//! The output is byte for byte what socket.io-parser's `Encoder` writes for the
//! same packet; the JSON itself is written by `json_write`.

use std::fmt::Write as _;

use bytes::{Bytes, BytesMut};

use crate::json_write::{self, BinaryMode};
use crate::packet::{Packet, PacketKind, ProtocolVersion};
use crate::value::Value;

/// An encoded packet: one text frame, then one binary frame per attachment.
///
/// Cloning is cheap (reference-counted bytes), so a broadcast encodes once and
/// hands the same `Encoded` to every recipient.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Encoded {
    /// The text frame (UTF-8).
    pub text: Bytes,
    /// The binary frames that must follow the text frame, in order.
    pub attachments: Vec<Bytes>,
}

impl Packet {
    /// Encodes the packet for a peer speaking `version`.
    ///
    /// ```
    /// use socketio_codec::{Packet, ProtocolVersion, Value};
    /// let p = Packet::event("/", "file", vec![Value::from(vec![1u8, 2])], None);
    /// let e = p.encode(ProtocolVersion::V5);
    /// assert_eq!(&e.text[..], br#"51-["file",{"_placeholder":true,"num":0}]"#);
    /// assert_eq!(e.attachments, vec![vec![1u8, 2]]);
    /// ```
    pub fn encode(&self, version: ProtocolVersion) -> Encoded {
        let mut out = BytesMut::with_capacity(64);
        let attachments = self.encode_into(version, &mut out);
        Encoded {
            text: out.freeze(),
            attachments,
        }
    }

    /// Appends the text frame to `out` and returns the attachments, for a caller
    /// that reuses its buffer.
    pub fn encode_into(&self, version: ProtocolVersion, out: &mut BytesMut) -> Vec<Bytes> {
        let mut attachments = Vec::new();
        let binary_count = match &self.kind {
            PacketKind::Event(data) | PacketKind::Ack(data) => count_binary(data),
            _ => 0,
        };

        // "<packet type>[<# of binary attachments>-][<namespace>,][<acknowledgment id>][JSON-stringified payload]"
        let digit = match (&self.kind, binary_count > 0) {
            (PacketKind::Connect(_), _) => b'0',
            (PacketKind::Disconnect, _) => b'1',
            (PacketKind::Event(_), false) => b'2',
            (PacketKind::Ack(_), false) => b'3',
            (PacketKind::ConnectError(_), _) => b'4',
            (PacketKind::Event(_), true) => b'5',
            (PacketKind::Ack(_), true) => b'6',
        };
        out.extend_from_slice(&[digit]);
        if binary_count > 0 {
            let _ = write!(out, "{binary_count}-");
        }
        // The reference leaves out an empty namespace and `/`.
        if !self.nsp.is_empty() && self.nsp != "/" {
            out.extend_from_slice(self.nsp.as_bytes());
            out.extend_from_slice(b",");
        }
        if let Some(id) = self.id {
            let _ = write!(out, "{id}");
        }

        // `null != obj.data`: a null or missing payload is not written.
        let mut mode = BinaryMode::NodeBuffer;
        match &self.kind {
            PacketKind::Connect(Some(data)) if !data.is_null() => {
                json_write::write(data, out, &mut mode)
            }
            PacketKind::Connect(_) | PacketKind::Disconnect => {}
            PacketKind::Event(data) | PacketKind::Ack(data) => {
                out.extend_from_slice(b"[");
                let mut mode = BinaryMode::Placeholders(&mut attachments);
                for (i, item) in data.iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(b",");
                    }
                    json_write::write(item, out, &mut mode);
                }
                out.extend_from_slice(b"]");
            }
            PacketKind::ConnectError(data) => {
                let data = match version {
                    ProtocolVersion::V5 => data,
                    ProtocolVersion::V4 => v4_error_payload(data),
                };
                if !data.is_null() {
                    json_write::write(data, out, &mut mode);
                }
            }
        }
        attachments
    }
}

/// How many binary values `data` holds.
fn count_binary(data: &[Value]) -> usize {
    let mut count = 0;
    let mut stack: Vec<&Value> = data.iter().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Binary(_) => count += 1,
            Value::Array(a) => stack.extend(a),
            Value::Object(o) => stack.extend(o.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    count
}

/// The protocol v4 payload of a v5-shaped CONNECT_ERROR: the reference sends
/// `err.data || err.message` to socket.io 2.x clients. Anything not shaped
/// `{"message": <string>[, "data": ...]}` is sent as it is.
fn v4_error_payload(data: &Value) -> &Value {
    let Some(fields) = data.as_object() else {
        return data;
    };
    let shaped = fields.iter().all(|(k, _)| k == "message" || k == "data");
    match data.get("message") {
        Some(message @ Value::String(_)) if shaped => match data.get("data") {
            Some(d) if is_truthy(d) => d,
            _ => message,
        },
        _ => data,
    }
}

/// JavaScript truthiness, for `err.data || err.message`.
fn is_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != 0.0 && !n.as_f64().is_nan(),
        Value::String(s) => !s.is_empty(),
        Value::Binary(_) | Value::Array(_) | Value::Object(_) => true,
    }
}
