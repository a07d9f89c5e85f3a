//! One Socket.IO text frame, both protocol versions: decoding never panics, and a
//! decoded packet encodes to text that decodes and encodes to the same bytes
//! (bytes, not values: `JSON.parse` reads `1e999` as Infinity, written `null`).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use socketio_codec::{Decoder, Limits, Packet, PacketKind, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    for version in [ProtocolVersion::V5, ProtocolVersion::V4] {
        let limits = Limits {
            max_attachments: 10,
            max_depth: 64,
        };
        let mut decoder = Decoder::new(version, limits);
        if let Ok(Some(packet)) = decoder.decode_text(Bytes::copy_from_slice(data)) {
            check_round_trip(&packet, version);
        }
    }
});

fn check_round_trip(packet: &Packet, version: ProtocolVersion) {
    // An EVENT with no payload at all is let through as the reference does, but
    // written back it is `[]`, which no parser accepts as an EVENT.
    // Likewise an event named by an infinite number (`2[1e999]`), written back as
    // `null`.
    match &packet.kind {
        PacketKind::Event(d) if d.is_empty() => return,
        PacketKind::Event(d) if d[0].as_number().is_some_and(|n| !n.is_finite()) => return,
        _ => {}
    }
    // v4 writes a v5-shaped CONNECT_ERROR object as its bare message.
    if version == ProtocolVersion::V4 && matches!(packet.kind, PacketKind::ConnectError(_)) {
        return;
    }
    let encoded = packet.encode(version);
    assert!(
        encoded.attachments.is_empty(),
        "text packets hold no binary"
    );
    let mut again = Decoder::new(
        version,
        Limits {
            max_attachments: 10,
            max_depth: 64,
        },
    );
    match again.decode_text(encoded.text.clone()) {
        Ok(Some(p)) => assert_eq!(p.encode(version), encoded, "{packet:?}"),
        other => panic!("{:?} re-decoded as {other:?}", encoded.text),
    }
}
