//! The messages nodes exchange through Redis, as values: building them and reading them back.
//!
//! Pure: no Redis, no tokio. Broadcasts are MessagePack arrays `[uid, packet, opts]`; requests
//! and responses are JSON objects, except the two that carry client data (a broadcast with
//! acknowledgements and each acknowledgement), which are MessagePack maps. A reader tells the two
//! apart by the first byte: `{` is JSON.

use bytes::Bytes;
use socketio_codec::{Limits, Packet, PacketKind, Value, msgpack};
use socketio_server::{BroadcastFlags, BroadcastOptions, Room};
use std::time::Duration;

/// Request and response types, numbered as the reference adapter numbers them.
pub(crate) mod kind {
    /// Ids of the local sockets in some rooms.
    pub(crate) const SOCKETS: u64 = 0;
    /// Every room with a local socket.
    pub(crate) const ALL_ROOMS: u64 = 1;
    /// Make the addressed sockets join rooms.
    pub(crate) const REMOTE_JOIN: u64 = 2;
    /// Make the addressed sockets leave rooms.
    pub(crate) const REMOTE_LEAVE: u64 = 3;
    /// Disconnect the addressed sockets.
    pub(crate) const REMOTE_DISCONNECT: u64 = 4;
    /// Describe the addressed sockets.
    pub(crate) const REMOTE_FETCH: u64 = 5;
    /// An event for the servers themselves.
    pub(crate) const SERVER_SIDE_EMIT: u64 = 6;
    /// A broadcast whose recipients answer.
    pub(crate) const BROADCAST: u64 = 7;
    /// How many clients one node sent such a broadcast to.
    pub(crate) const BROADCAST_CLIENT_COUNT: u64 = 8;
    /// One client's answer to such a broadcast.
    pub(crate) const BROADCAST_ACK: u64 = 9;
}

/// A message from Redis that is not what the protocol says. The message is dropped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MessageError {
    /// Not valid MessagePack or JSON.
    #[error("undecodable: {0}")]
    Undecodable(#[from] socketio_codec::DecodeError),
    /// Decoded, but not shaped as the protocol says.
    #[error("malformed: {0}")]
    Malformed(&'static str),
}

/// Nesting allowed in a message from Redis: the packet's own limit plus the envelope.
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_depth += 4;
    limits
}

/// An object with keys in this order.
pub(crate) fn object(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn rooms_value<'a>(rooms: impl Iterator<Item = &'a Room>) -> Value {
    Value::Array(rooms.map(|r| Value::from(&**r)).collect())
}

/// An event packet as the reference builds it before publishing: `{type, data, nsp}`.
pub(crate) fn packet_value(packet: &Packet) -> Value {
    let data = match &packet.kind {
        PacketKind::Event(data) => Value::Array(data.clone()),
        _ => Value::Array(Vec::new()),
    };
    object(vec![
        ("type", Value::from(2u64)),
        ("data", data),
        ("nsp", Value::from(packet.nsp.as_str())),
    ])
}

/// An event packet read back; the namespace defaults to `/`, as the reference reads it.
pub(crate) fn packet_from_value(value: &Value) -> Result<Packet, MessageError> {
    // The parser may have turned an EVENT with binary into a BINARY_EVENT (5).
    match value.get("type").and_then(Value::as_u64) {
        Some(2 | 5) => {}
        _ => return Err(MessageError::Malformed("packet type is not an event")),
    }
    let Some(data) = value.get("data").and_then(Value::as_array) else {
        return Err(MessageError::Malformed("packet data is not a list"));
    };
    if !matches!(data.first(), Some(Value::String(_) | Value::Number(_))) {
        return Err(MessageError::Malformed("packet has no event name"));
    }
    let nsp = match value.get("nsp") {
        None | Some(Value::Null) => "/",
        Some(Value::String(s)) => s,
        Some(_) => return Err(MessageError::Malformed("packet namespace is not a string")),
    };
    Ok(Packet {
        kind: PacketKind::Event(data.to_vec()),
        nsp: nsp.to_owned(),
        id: None,
    })
}

/// `{rooms, except}`, as requests that address sockets carry them.
pub(crate) fn target_value(opts: &BroadcastOptions) -> Value {
    object(vec![
        ("rooms", rooms_value(opts.rooms.iter())),
        ("except", rooms_value(opts.except.iter())),
    ])
}

/// `{rooms, except, flags}`, as broadcasts carry them. Only the flags that are set are written,
/// as the reference's operator only sets those a caller asked for.
pub(crate) fn opts_value(opts: &BroadcastOptions) -> Value {
    let mut flags = Vec::new();
    if opts.flags.volatile {
        flags.push(("volatile", Value::Bool(true)));
    }
    if opts.flags.compress {
        flags.push(("compress", Value::Bool(true)));
    }
    if let Some(timeout) = opts.flags.timeout {
        flags.push(("timeout", Value::from(timeout.as_millis() as u64)));
    }
    object(vec![
        ("rooms", rooms_value(opts.rooms.iter())),
        ("except", rooms_value(opts.except.iter())),
        ("flags", object(flags)),
    ])
}

/// Room names from a list; numbers become their decimal text, as JavaScript would print them.
fn rooms_from(value: Option<&Value>) -> Result<Vec<Room>, MessageError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Some(items) = value.as_array() else {
        return Err(MessageError::Malformed("rooms are not a list"));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(Room::from(s.as_str())),
            Value::Number(_) => Ok(Room::from(item.to_json_string())),
            _ => Err(MessageError::Malformed("a room is not a string")),
        })
        .collect()
}

/// Options read back from `{rooms, except, flags}` (every part optional).
pub(crate) fn opts_from_value(value: Option<&Value>) -> Result<BroadcastOptions, MessageError> {
    let Some(value) = value else {
        return Ok(BroadcastOptions::default());
    };
    let flags = value.get("flags");
    let flag = |name| {
        flags
            .and_then(|f| f.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let timeout = flags
        .and_then(|f| f.get("timeout"))
        .and_then(Value::as_f64)
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Duration::from_millis(ms as u64));
    Ok(BroadcastOptions {
        rooms: rooms_from(value.get("rooms"))?.into_iter().collect(),
        except: rooms_from(value.get("except"))?.into_iter().collect(),
        flags: BroadcastFlags {
            volatile: flag("volatile"),
            local: false,
            compress: flag("compress"),
            timeout,
        },
    })
}

/// A list of rooms, as join and leave requests carry them.
pub(crate) fn room_list(rooms: &[Room]) -> Value {
    rooms_value(rooms.iter())
}

/// Reads the rooms of a join or leave request.
pub(crate) fn room_list_from(value: Option<&Value>) -> Result<Vec<Room>, MessageError> {
    rooms_from(value)
}

/// A broadcast as published: MessagePack `[uid, packet, opts]`.
pub(crate) fn encode_broadcast(uid: &str, packet: &Packet, opts: &BroadcastOptions) -> Bytes {
    msgpack::encode_value(&Value::Array(vec![
        Value::from(uid),
        packet_value(packet),
        opts_value(opts),
    ]))
}

/// A broadcast received: who sent it, the packet, and whom it addresses.
#[derive(Debug)]
pub(crate) struct Broadcast {
    pub(crate) uid: String,
    pub(crate) packet: Packet,
    pub(crate) opts: BroadcastOptions,
}

/// Reads a published broadcast.
pub(crate) fn decode_broadcast(payload: Bytes) -> Result<Broadcast, MessageError> {
    let value = msgpack::decode_value(payload, &limits())?;
    let Some([uid, packet, opts]) = value
        .as_array()
        .and_then(|a| <&[Value; 3]>::try_from(a).ok())
    else {
        return Err(MessageError::Malformed("not [uid, packet, opts]"));
    };
    Ok(Broadcast {
        uid: uid.as_str().unwrap_or_default().to_owned(),
        packet: packet_from_value(packet)?,
        opts: opts_from_value(Some(opts))?,
    })
}

/// Reads a request or a response: JSON when it starts with `{`, MessagePack otherwise; either
/// way an object.
pub(crate) fn decode_object(payload: Bytes) -> Result<Value, MessageError> {
    let value = if payload.first() == Some(&b'{') {
        let text = std::str::from_utf8(&payload)
            .map_err(|_| MessageError::Malformed("JSON that is not UTF-8"))?;
        Value::from_json_str_with_depth(text, limits().max_depth)?
    } else {
        msgpack::decode_value(payload, &limits())?
    };
    match value {
        Value::Object(_) => Ok(value),
        _ => Err(MessageError::Malformed("not an object")),
    }
}

/// A request or response as JSON bytes.
pub(crate) fn json(value: &Value) -> Bytes {
    Bytes::from(value.to_json_string())
}

/// A request or response as MessagePack bytes.
pub(crate) fn msgpack(value: &Value) -> Bytes {
    msgpack::encode_value(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(rooms: &[&str], except: &[&str]) -> BroadcastOptions {
        BroadcastOptions {
            rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
            except: except.iter().map(|r| Room::from(*r)).collect(),
            flags: BroadcastFlags::default(),
        }
    }

    #[test]
    fn broadcast_bytes_are_the_reference_layout() {
        let packet = Packet::event("/", "hi", vec![Value::from(1u64)], None);
        let bytes = encode_broadcast("abc123", &packet, &opts(&["r"], &[]));
        // [ "abc123", {type:2, data:["hi",1], nsp:"/"}, {rooms:["r"], except:[], flags:{}} ]
        let expected: &[u8] = b"\x93\xa6abc123\
            \x83\xa4type\x02\xa4data\x92\xa2hi\x01\xa3nsp\xa1/\
            \x83\xa5rooms\x91\xa1r\xa6except\x90\xa5flags\x80";
        assert_eq!(&bytes[..], expected);
    }

    #[test]
    fn broadcast_round_trips_with_flags_and_binary() {
        let packet = Packet::event(
            "/chat",
            "bin",
            vec![Value::Binary(Bytes::from_static(b"\x00\x01"))],
            None,
        );
        let mut o = opts(&["a", "b"], &["c"]);
        o.flags.volatile = true;
        o.flags.compress = true;
        o.flags.timeout = Some(Duration::from_millis(1500));
        let got = decode_broadcast(encode_broadcast("u", &packet, &o)).expect("decodes");
        assert_eq!(got.uid, "u");
        assert_eq!(got.packet, packet);
        assert_eq!(got.opts.rooms, o.rooms);
        assert_eq!(got.opts.except, o.except);
        assert!(got.opts.flags.volatile && got.opts.flags.compress && !got.opts.flags.local);
        assert_eq!(got.opts.flags.timeout, Some(Duration::from_millis(1500)));
    }

    #[test]
    fn missing_namespace_is_the_main_one_and_numeric_rooms_are_text() {
        let value = Value::Array(vec![
            Value::from("u"),
            object(vec![
                ("type", Value::from(2u64)),
                ("data", Value::Array(vec![Value::from("e")])),
            ]),
            object(vec![("rooms", Value::Array(vec![Value::from(42u64)]))]),
        ]);
        let got = decode_broadcast(msgpack(&value)).expect("decodes");
        assert_eq!(got.packet.nsp, "/");
        assert!(got.opts.rooms.contains("42"));
    }

    #[test]
    fn malformed_messages_are_errors() {
        for bad in [
            &b""[..],
            b"\xc1",
            b"\x92\xa1u\x80",
            b"\x93\xa1u\x80\x80",
            b"\x93\xa1u\x82\xa4type\x03\xa4data\x90\x80",
            b"\x93\xa1u\x82\xa4type\x02\xa4data\x90\x80",
            b"\x93\xa1u\x82\xa4type\x02\xa4data\x91\xa1e\x81\xa5rooms\x91\xc3",
        ] {
            assert!(
                decode_broadcast(Bytes::copy_from_slice(bad)).is_err(),
                "{bad:?}"
            );
        }
        assert!(decode_object(Bytes::from_static(b"{nope")).is_err());
        assert!(decode_object(Bytes::from_static(b"[1]")).is_err());
        assert!(decode_object(Bytes::from_static(b"\x91\x01")).is_err());
    }

    #[test]
    fn requests_are_read_as_json_or_msgpack() {
        let json = decode_object(Bytes::from_static(br#"{"type":5,"requestId":"x"}"#)).unwrap();
        assert_eq!(json.get("type").and_then(Value::as_u64), Some(5));
        let mp = decode_object(msgpack(&object(vec![("type", Value::from(7u64))]))).unwrap();
        assert_eq!(mp.get("type").and_then(Value::as_u64), Some(7));
    }
}
