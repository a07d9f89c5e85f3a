//! One Engine.IO packet in each of its forms (text, WebSocket text and binary
//! frames), both protocol versions: decoding never panics, and a decoded packet
//! writes back to text that decodes to the same packet.
#![no_main]

use bytes::Bytes;
use engineio::{Packet, ProtocolVersion};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for protocol in [ProtocolVersion::V4, ProtocolVersion::V3] {
        if let Ok(packet) = Packet::decode_ws_text(data, protocol) {
            let text = packet.to_text(protocol);
            assert_eq!(
                Packet::decode_text(&text, protocol).ok(),
                Some(packet),
                "{text:?}"
            );
        }
        let _ = Packet::decode_ws_binary(Bytes::copy_from_slice(data), protocol);
    }
});
