//! A Socket.IO text frame followed by binary frames (the input split at 0xFF
//! bytes), as a BINARY_EVENT or BINARY_ACK arrives: reassembly never panics, and a
//! reassembled packet encodes to frames that decode and encode to the same bytes.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use socketio_codec::{Decoder, Limits, Packet, PacketKind, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    let mut frames = data.split(|b| *b == 0xFF);
    let Some(text) = frames.next() else { return };
    let limits = Limits {
        max_attachments: 16,
        max_depth: 64,
    };
    let mut decoder = Decoder::new(ProtocolVersion::V5, limits.clone());

    let mut done = match decoder.decode_text(Bytes::copy_from_slice(text)) {
        Ok(p) => p,
        Err(_) => return,
    };
    for frame in frames {
        // A frame starting with 0xFE is sent as text, to exercise the order checks.
        let result = match frame.split_first() {
            Some((0xFE, rest)) => decoder.decode_text(Bytes::copy_from_slice(rest)),
            _ => decoder.decode_binary(Bytes::copy_from_slice(frame)),
        };
        match result {
            Ok(Some(p)) => done = Some(p),
            Ok(None) => {}
            Err(_) => return,
        }
    }
    if let Some(packet) = done {
        check_round_trip(&packet, limits);
    }
});

fn check_round_trip(packet: &Packet, limits: Limits) {
    // Likewise an event named by an infinite number (`2[1e999]`), written back as
    // `null`.
    match &packet.kind {
        PacketKind::Event(d) if d.is_empty() => return,
        PacketKind::Event(d) if d[0].as_number().is_some_and(|n| !n.is_finite()) => return,
        _ => {}
    }
    let encoded = packet.encode(ProtocolVersion::V5);
    // One attachment per binary value: a buffer referenced twice is sent twice.
    let limits = Limits {
        max_attachments: encoded.attachments.len().max(limits.max_attachments),
        ..limits
    };
    let mut again = Decoder::new(ProtocolVersion::V5, limits);
    let mut out = again.decode_text(encoded.text.clone());
    for a in &encoded.attachments {
        assert!(matches!(out, Ok(None)), "{out:?}");
        out = again.decode_binary(a.clone());
    }
    match out {
        Ok(Some(p)) => assert_eq!(p.encode(ProtocolVersion::V5), encoded, "{packet:?}"),
        other => panic!("{:?} re-decoded as {other:?}", encoded.text),
    }
}
