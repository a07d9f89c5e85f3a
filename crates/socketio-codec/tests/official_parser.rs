//! The codec against the official parser (npm socket.io-parser 4.2.7), over the
//! corpus in `tests/compat/` (written by `protocol-tests/parser-compat/make-corpus.mjs`).
//!
//! `node protocol-tests/parser-compat/run.mjs` runs the official parser over the
//! corpus; this test runs the codec over the same cases and requires the same
//! bytes from the encoder, the same packets from the decoder, and a refusal
//! wherever the official decoder throws. The only differences allowed are the ones
//! the crate documents, and each is checked to be exactly that.
//!
//! Needs Node.js and `npm ci` in `protocol-tests/` (`scripts/test` does both).

mod common;

use bytes::Bytes;
use common::{corpus, describe_packet, hex, normalize_reference, revive, run_node, unhex};
use socketio_codec::{DecodeError, Decoder, Limits, Packet, PacketKind, ProtocolVersion, Value};

#[test]
fn decoder_agrees_with_the_official_parser() {
    let cases = corpus("decode.jsonl");
    let reference = run_node("decode", "decode.jsonl");
    assert_eq!(cases.len(), reference.len());
    assert!(cases.len() >= 400, "corpus too small");

    let (mut same, mut lossy, mut ids, mut placeholders, mut deep) = (0, 0, 0, 0, 0);
    for (i, (case, expected)) in cases.iter().zip(&reference).enumerate() {
        let frames = case
            .get("frames")
            .and_then(Value::as_array)
            .unwrap_or_default();
        let steps = expected
            .get("steps")
            .and_then(Value::as_array)
            .unwrap_or_default();
        let mut decoder = Decoder::new(ProtocolVersion::V5, Limits::default());
        let mut diverged = false;
        for (frame, step) in frames.iter().zip(steps) {
            let kind = frame
                .as_array()
                .and_then(|f| f[0].as_str())
                .unwrap_or_default();
            let data = frame
                .as_array()
                .and_then(|f| f[1].as_str())
                .unwrap_or_default();
            let ours = match kind {
                "t" => decoder.decode_text(Bytes::copy_from_slice(data.as_bytes())),
                _ => decoder.decode_binary(unhex(data)),
            };
            let context = format!("case {i}: {case:?}\nreference: {step:?}\nours: {ours:?}");
            match (step, &ours) {
                (Value::String(s), Ok(None)) if s == "pending" => {}
                (step, Err(_)) if step.get("error").is_some() => {}
                (step, Ok(Some(packet))) if step.get("error").is_none() => {
                    let (reference, _) = normalize_reference(step);
                    assert_eq!(
                        describe_packet(packet).to_json_string(),
                        reference.to_json_string(),
                        "{context}"
                    );
                }
                // Documented: an ack id that is NaN or past u64 is refused.
                (step, Err(DecodeError::InvalidAckId(_))) => {
                    let (_, id) = normalize_reference(step);
                    assert!(
                        id.is_some_and(|id| id.is_nan() || id >= 18_446_744_073_709_551_616.0),
                        "{context}"
                    );
                    ids += 1;
                    diverged = true;
                    break;
                }
                // Documented: a fractional placeholder index is refused (the
                // reference puts `undefined` there).
                (step, Err(DecodeError::PlaceholderOutOfRange))
                    if step.to_json_string().contains("null") =>
                {
                    placeholders += 1;
                    diverged = true;
                    break;
                }
                // Documented: nesting is bounded; the reference has no bound.
                (step, Err(DecodeError::NestingTooDeep { .. })) if step.get("error").is_none() => {
                    deep += 1;
                    diverged = true;
                    break;
                }
                _ => panic!("disagreement\n{context}"),
            }
        }
        if diverged {
            // Counted above, by kind.
        } else if expected.get("lossy").is_some() {
            lossy += 1;
        } else {
            same += 1;
        }
    }
    eprintln!(
        "{} decode cases: {same} identical, {lossy} identical after lone surrogates became U+FFFD, \
         {ids} refused ack ids (NaN or past 2^64), {placeholders} refused fractional placeholders, \
         {deep} refused past Limits::max_depth",
        cases.len()
    );
}

#[test]
fn encoder_writes_the_official_bytes() {
    compare_encoder("encode", ProtocolVersion::V5);
}

/// Protocol v4 against socket.io-parser 3.3.6, the parser of socket.io 2.x.
#[test]
fn v4_encoder_writes_the_socket_io_2_bytes() {
    compare_encoder("encode-v4", ProtocolVersion::V4);
}

fn compare_encoder(mode: &str, version: ProtocolVersion) {
    let cases = corpus("encode.jsonl");
    let reference = run_node(mode, "encode.jsonl");
    assert_eq!(cases.len(), reference.len());
    assert!(cases.len() >= 250, "corpus too small");

    for (i, (case, expected)) in cases.iter().zip(&reference).enumerate() {
        let nsp = case.get("nsp").and_then(Value::as_str).unwrap_or("/");
        let id = case.get("id").and_then(Value::as_u64);
        let data = case.get("data").map(revive);
        let kind = match case.get("type").and_then(Value::as_u64) {
            Some(0) => PacketKind::Connect(data),
            Some(1) => PacketKind::Disconnect,
            Some(2) => PacketKind::Event(
                data.and_then(|d| d.as_array().map(<[Value]>::to_vec))
                    .unwrap_or_default(),
            ),
            Some(3) => PacketKind::Ack(
                data.and_then(|d| d.as_array().map(<[Value]>::to_vec))
                    .unwrap_or_default(),
            ),
            _ => PacketKind::ConnectError(data.unwrap_or_default()),
        };
        let encoded = Packet {
            kind,
            nsp: nsp.to_owned(),
            id,
        }
        .encode(version);

        let mut ours = vec![Value::Array(vec![
            "t".into(),
            String::from_utf8_lossy(&encoded.text).into_owned().into(),
        ])];
        ours.extend(
            encoded
                .attachments
                .iter()
                .map(|a| Value::Array(vec!["b".into(), hex(a).into()])),
        );
        let frames = expected.get("frames").cloned().unwrap_or_default();
        assert_eq!(Value::Array(ours), frames, "case {i}: {case:?}");
    }
    eprintln!("{} {mode} cases: all byte-identical", cases.len());
}
