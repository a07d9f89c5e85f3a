//! The MessagePack parser: Socket.IO packets as one binary frame each, wire-
//! compatible with npm socket.io-msgpack-parser 3.0.2 (enabled by the `msgpack`
//! feature).
//!
//! A packet is one MessagePack map, `{"type":2,"data":[...],"id":1,"nsp":"/"}`;
//! binary goes inline (bin 8/16/32), so there are no attachments and no decoder
//! state. Validation follows the official `checkPacket`: the type is 0 to 4, the
//! namespace a string, the data shaped as the type requires, the id a whole
//! number; other keys (clients send `options`) are ignored. Two deliberate
//! differences: an EVENT named after a reserved event is refused, as the text
//! parser refuses it (the msgpack parser lets it through to the server), and an id
//! a `u64` cannot hold is refused.
//!
//! Keys are written in the order the reference server builds each packet (EVENT:
//! type, data, id, nsp; ACK: id, type, data, nsp; others: type, data, nsp), so a
//! packet encodes to the reference server's bytes.

mod value;

use bytes::{BufMut, Bytes, BytesMut};

use crate::decode::{Limits, RESERVED_EVENTS};
use crate::error::DecodeError;
use crate::packet::{Packet, PacketKind};
use crate::value::Value;
use value::{Item, Reader};

/// Encodes `packet` as one MessagePack binary frame.
///
/// ```
/// use socketio_codec::{Packet, msgpack};
/// let bytes = msgpack::encode(&Packet::event("/", "a", vec![], None));
/// assert_eq!(&bytes[..], b"\x83\xa4type\x02\xa4data\x91\xa1a\xa3nsp\xa1/");
/// ```
pub fn encode(packet: &Packet) -> Bytes {
    let mut out = BytesMut::with_capacity(64);
    encode_into(packet, &mut out);
    out.freeze()
}

/// Appends the MessagePack frame of `packet` to `out`.
pub fn encode_into(packet: &Packet, out: &mut BytesMut) {
    let (ty, data): (u8, Data<'_>) = match &packet.kind {
        PacketKind::Connect(Some(d)) if !d.is_null() => (0, Data::Value(d)),
        PacketKind::Connect(_) => (0, Data::None),
        PacketKind::Disconnect => (1, Data::None),
        PacketKind::Event(d) => (2, Data::List(d)),
        PacketKind::Ack(d) => (3, Data::List(d)),
        PacketKind::ConnectError(Value::Null) => (4, Data::None),
        PacketKind::ConnectError(d) => (4, Data::Value(d)),
    };
    let ack = matches!(packet.kind, PacketKind::Ack(_));
    let len = 2 + usize::from(!matches!(data, Data::None)) + usize::from(packet.id.is_some());
    out.put_u8(0x80 | len as u8);

    let id = |out: &mut BytesMut| {
        if let Some(id) = packet.id {
            value::write_str("id", out);
            value::write(&Value::from(id), out);
        }
    };
    if ack {
        id(out);
    }
    value::write_str("type", out);
    out.put_u8(ty);
    match data {
        Data::None => {}
        Data::Value(v) => {
            value::write_str("data", out);
            value::write(v, out);
        }
        Data::List(items) => {
            value::write_str("data", out);
            value::write_list(items, out);
        }
    }
    if !ack {
        id(out);
    }
    value::write_str("nsp", out);
    value::write_str(&packet.nsp, out);
}

/// Encodes one value as notepack.io writes it: the format other MessagePack users of the
/// Socket.IO ecosystem (the Redis adapter's messages, for one) speak.
///
/// ```
/// use socketio_codec::{Value, msgpack};
/// let v = Value::Array(vec![Value::from("a"), Value::from(1u64)]);
/// assert_eq!(&msgpack::encode_value(&v)[..], b"\x92\xa1a\x01");
/// ```
pub fn encode_value(value: &Value) -> Bytes {
    let mut out = BytesMut::with_capacity(64);
    value::write(value, &mut out);
    out.freeze()
}

/// Decodes one whole frame as one value, nesting bounded by `limits.max_depth`. A frame
/// holding `undefined` alone decodes as `null`. Binary values share `data`.
pub fn decode_value(data: Bytes, limits: &Limits) -> Result<Value, DecodeError> {
    let mut reader = Reader::new(data, limits.max_depth);
    let item = reader.read()?;
    if !reader.at_end() {
        return Err(reader.error());
    }
    Ok(match item {
        Item::Value(v) => v,
        Item::Undefined => Value::Null,
    })
}

/// A packet's data, borrowed.
enum Data<'a> {
    None,
    Value(&'a Value),
    List(&'a [Value]),
}

/// Decodes one MessagePack frame into a packet. Binary values share `data`.
pub fn decode(data: Bytes, limits: &Limits) -> Result<Packet, DecodeError> {
    // The packet map itself is one level above what the text form counts.
    let mut reader = Reader::new(data, limits.max_depth.saturating_add(1));
    let item = reader.read()?;
    if !reader.at_end() {
        // "N trailing bytes"
        return Err(reader.error());
    }
    let Item::Value(Value::Object(mut fields)) = item else {
        return Err(DecodeError::UnknownPacketType("not a map".into()));
    };
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);

    // "isInteger(decoded.type) && decoded.type >= CONNECT && decoded.type <= CONNECT_ERROR"
    let ty = field("type")
        .and_then(Value::as_number)
        .filter(|n| n.is_integer())
        .map(|n| n.as_f64());
    let ty = match ty {
        Some(t) if (0.0..=4.0).contains(&t) => t as u8,
        _ => {
            let shown = field("type").map_or_else(|| "undefined".to_owned(), Value::to_json_string);
            return Err(DecodeError::UnknownPacketType(shown));
        }
    };

    // "isString(decoded.nsp)"
    let Some(Value::String(nsp)) = field("nsp") else {
        return Err(DecodeError::InvalidNamespace);
    };
    let nsp = nsp.clone();

    // Keys are unique after decoding: move the data out rather than copy it.
    let data = fields
        .iter()
        .position(|(k, _)| k == "data")
        .map(|i| fields.swap_remove(i).1);
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let kind = match (ty, data) {
        (0, None) => PacketKind::Connect(None),
        (0, Some(v @ Value::Object(_))) => PacketKind::Connect(Some(v)),
        (0, Some(_)) => return Err(DecodeError::InvalidConnectPayload),
        (1, None) => PacketKind::Disconnect,
        (1, Some(_)) => return Err(DecodeError::InvalidDisconnectPayload),
        (2, Some(Value::Array(d))) => match d.first() {
            Some(Value::String(name)) if RESERVED_EVENTS.contains(&name.as_str()) => {
                return Err(DecodeError::ReservedEventName(name.clone()));
            }
            _ => PacketKind::Event(d),
        },
        (2, _) => return Err(DecodeError::InvalidEventPayload),
        (3, Some(Value::Array(d))) => PacketKind::Ack(d),
        (3, _) => return Err(DecodeError::InvalidAckPayload),
        (_, Some(v @ (Value::String(_) | Value::Object(_)))) => PacketKind::ConnectError(v),
        (_, _) => return Err(DecodeError::InvalidConnectErrorPayload),
    };

    // "decoded.id === undefined || isInteger(decoded.id)"
    let id = match field("id") {
        None => None,
        Some(v) => Some(whole_u64(v).ok_or_else(|| DecodeError::InvalidAckId(v.to_json_string()))?),
    };
    Ok(Packet {
        kind,
        nsp: nsp.clone(),
        id,
    })
}

/// A whole number from 0 to 2^64 - 1.
fn whole_u64(v: &Value) -> Option<u64> {
    let n = v.as_number().filter(|n| n.is_integer())?;
    let f = n.as_f64();
    n.as_u64().or_else(|| {
        (0.0..18_446_744_073_709_551_616.0)
            .contains(&f)
            .then_some(f as u64)
    })
}
