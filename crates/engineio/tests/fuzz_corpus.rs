//! Replays the committed Engine.IO fuzz corpora (`fuzz/corpus/engineio_*`) through
//! the packet, payload and HTTP request decoders as ordinary tests: no input may panic, and a
//! decoded packet writes back to text that decodes to the same packet.

use std::path::Path;

use bytes::Bytes;
use engineio::{Packet, ProtocolVersion, payload, payload_v3};

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_default())
        .collect()
}

#[test]
fn packet_corpus() {
    for data in corpus("engineio_packet") {
        for protocol in [ProtocolVersion::V4, ProtocolVersion::V3] {
            if let Ok(packet) = Packet::decode_ws_text(&data, protocol) {
                let text = packet.to_text(protocol);
                assert_eq!(
                    Packet::decode_text(&text, protocol).ok(),
                    Some(packet),
                    "{text:?}"
                );
            }
            let _ = Packet::decode_ws_binary(Bytes::from(data.clone()), protocol);
        }
    }
}

#[test]
fn payload_v4_corpus() {
    for data in corpus("engineio_payload_v4") {
        let decoded = payload::decode_v4(&data);
        if decoded.error.is_none() && !decoded.packets.is_empty() {
            let again = payload::decode_v4(payload::encode_v4(&decoded.packets).as_bytes());
            assert_eq!(again.packets, decoded.packets);
        }
    }
}

#[test]
fn payload_v3_corpus() {
    for data in corpus("engineio_payload_v3") {
        if let Ok(text) = std::str::from_utf8(&data) {
            let _ = payload_v3::decode_string(text);
        }
        let _ = payload_v3::decode_binary(&data);
        if let Some(form) = payload_v3::decode_jsonp_form(&data) {
            let _ = payload_v3::decode_string(&form);
        }
    }
}

#[test]
fn http_corpus() {
    for data in corpus("engineio_http") {
        engineio::fuzz_request(&data);
    }
}
