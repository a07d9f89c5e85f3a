//! Replays the committed fuzz corpora (`fuzz/corpus/socketio_*`) through the
//! decoder as ordinary tests, so every input a fuzzer once found interesting, and
//! every crash it found, keeps being checked without a nightly toolchain.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use socketio_codec::{Decoder, Limits, Packet, PacketKind, ProtocolVersion, Value, msgpack};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
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
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap_or_default()))
        .collect()
}

#[test]
fn text_corpus_decodes_without_panic_and_re_encodes_stably() {
    for (path, data) in corpus("socketio_text") {
        for version in [ProtocolVersion::V5, ProtocolVersion::V4] {
            let mut decoder = Decoder::new(
                version,
                Limits {
                    max_attachments: 10,
                    max_depth: 64,
                },
            );
            let Ok(Some(packet)) = decoder.decode_text(Bytes::from(data.clone())) else {
                continue;
            };
            let encoded = packet.encode(version);
            let mut again = Decoder::new(
                version,
                Limits {
                    max_attachments: 10,
                    max_depth: 64,
                },
            );
            // The exceptions the fuzz target documents: no payload, an infinite event
            // name, the v4 CONNECT_ERROR shape.
            if let Ok(Some(p)) = again.decode_text(encoded.text.clone()) {
                assert_eq!(p.encode(version), encoded, "{}", path.display());
            }
        }
    }
}

#[test]
fn binary_corpus_reassembles_without_panic() {
    for (_, data) in corpus("socketio_binary") {
        let mut frames = data.split(|b| *b == 0xFF);
        let Some(text) = frames.next() else { continue };
        let mut decoder = Decoder::new(
            ProtocolVersion::V5,
            Limits {
                max_attachments: 16,
                max_depth: 64,
            },
        );
        if decoder.decode_text(Bytes::copy_from_slice(text)).is_err() {
            continue;
        }
        for frame in frames {
            let result = match frame.split_first() {
                Some((0xFE, rest)) => decoder.decode_text(Bytes::copy_from_slice(rest)),
                _ => decoder.decode_binary(Bytes::copy_from_slice(frame)),
            };
            if let Ok(Some(packet)) = &result {
                let _ = packet.encode(ProtocolVersion::V5);
            }
            if result.is_err() {
                break;
            }
        }
    }
}

#[test]
fn msgpack_corpus_decodes_without_panic_and_re_encodes_stably() {
    let limits = Limits {
        max_attachments: 10,
        max_depth: 64,
    };
    for (path, data) in corpus("socketio_msgpack") {
        let Ok(packet) = msgpack::decode(Bytes::from(data), &limits) else {
            continue;
        };
        let encoded = msgpack::encode(&packet);
        let again = msgpack::decode(encoded.clone(), &limits);
        assert!(again.is_ok(), "{}: {again:?}", path.display());
        // Whole numbers past 2^53 change on the way, as in notepack (see the target).
        if !has_big_whole_number(&packet) {
            assert_eq!(
                again.map(|p| msgpack::encode(&p)),
                Ok(encoded),
                "{}",
                path.display()
            );
        }
    }
}

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
