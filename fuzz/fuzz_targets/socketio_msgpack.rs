//! One socket.io-msgpack-parser frame: decoding never panics, a decoded packet
//! encodes to a frame that decodes again, and to the same bytes unless it holds
//! whole numbers past 2^53 (notepack writes those as 64-bit integers, wrapping
//! past 2^64, and reads them back as rounded doubles).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use socketio_codec::{Limits, Packet, PacketKind, Value, msgpack};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_attachments: 10,
        max_depth: 64,
    };
    if let Ok(packet) = msgpack::decode(Bytes::copy_from_slice(data), &limits) {
        let encoded = msgpack::encode(&packet);
        match msgpack::decode(encoded.clone(), &limits) {
            Ok(again) if !has_big_whole_number(&packet) => {
                assert_eq!(msgpack::encode(&again), encoded, "{packet:?}")
            }
            Ok(_) => {}
            Err(e) => panic!("{packet:?} re-decoded as {e}"),
        }
    }
});

fn has_big_whole_number(packet: &Packet) -> bool {
    let mut stack: Vec<&Value> = match &packet.kind {
        PacketKind::Connect(Some(v)) | PacketKind::ConnectError(v) => vec![v],
        PacketKind::Event(d) | PacketKind::Ack(d) => d.iter().collect(),
        _ => vec![],
    };
    while let Some(v) = stack.pop() {
        match v {
            Value::Number(n) if n.is_integer() && n.as_f64().abs() >= 9_007_199_254_740_992.0 => {
                return true;
            }
            Value::Array(a) => stack.extend(a),
            Value::Object(o) => stack.extend(o.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    false
}
