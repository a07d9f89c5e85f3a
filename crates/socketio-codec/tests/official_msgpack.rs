//! The MessagePack parser against the official one (npm socket.io-msgpack-parser
//! 3.0.2 on notepack.io 2.2.0): the same bytes for every packet of
//! `tests/compat/encode.jsonl`, and the same packets (or refusals) for every frame
//! of `tests/compat/msgpack-decode.jsonl`, except the documented differences.
//!
//! Needs Node.js and `npm ci` in `protocol-tests/` (`scripts/test` does both).

mod common;

use bytes::Bytes;
use common::{corpus, describe_packet, normalize_reference, revive, run_node, unhex};
use socketio_codec::{DecodeError, Limits, Packet, PacketKind, Value, msgpack};

fn packet_of(case: &Value) -> Packet {
    let nsp = case.get("nsp").and_then(Value::as_str).unwrap_or("/");
    let id = case.get("id").and_then(Value::as_u64);
    let data = case.get("data").map(revive);
    let list = |d: Option<Value>| {
        d.and_then(|d| d.as_array().map(<[Value]>::to_vec))
            .unwrap_or_default()
    };
    let kind = match case.get("type").and_then(Value::as_u64) {
        Some(0) => PacketKind::Connect(data),
        Some(1) => PacketKind::Disconnect,
        Some(2) => PacketKind::Event(list(data)),
        Some(3) => PacketKind::Ack(list(data)),
        _ => PacketKind::ConnectError(data.unwrap_or_default()),
    };
    Packet {
        kind,
        nsp: nsp.to_owned(),
        id,
    }
}

#[test]
fn encoder_writes_the_official_bytes() {
    let cases = corpus("encode.jsonl");
    let reference = run_node("msgpack-encode", "encode.jsonl");
    assert_eq!(cases.len(), reference.len());
    for (i, (case, expected)) in cases.iter().zip(&reference).enumerate() {
        let ours = common::hex(&msgpack::encode(&packet_of(case)));
        assert_eq!(
            Some(ours.as_str()),
            expected.get("frame").and_then(Value::as_str),
            "case {i}: {case:?}"
        );
    }
    eprintln!("{} msgpack encode cases: all byte-identical", cases.len());
}

#[test]
fn decoder_agrees_with_the_official_parser() {
    let cases = corpus("msgpack-decode.jsonl");
    let reference = run_node("msgpack-decode", "msgpack-decode.jsonl");
    assert_eq!(cases.len(), reference.len());
    assert!(cases.len() >= 300, "corpus too small");

    let (mut same, mut refused, mut reserved, mut ids, mut keys) = (0, 0, 0, 0, 0);
    for (i, (case, expected)) in cases.iter().zip(&reference).enumerate() {
        let frame = unhex(
            case.get("frame")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        );
        let ours = msgpack::decode(Bytes::clone(&frame), &Limits::default());
        let context = format!("case {i}: {case:?}\nreference: {expected:?}\nours: {ours:?}");
        match (expected.get("packet"), &ours) {
            (None, Err(_)) => refused += 1,
            (Some(reference), Ok(packet)) => {
                let (reference, _) = normalize_reference(reference);
                assert_eq!(
                    describe_packet(packet).to_json_string(),
                    reference.to_json_string(),
                    "{context}"
                );
                same += 1;
            }
            // Documented: reserved event names are refused, as in the text form.
            (Some(_), Err(DecodeError::ReservedEventName(_))) => reserved += 1,
            // Documented: ids a u64 cannot hold are refused.
            (Some(p), Err(DecodeError::InvalidAckId(_))) => {
                let (_, id) = normalize_reference(p);
                assert!(
                    id.is_some_and(|id| !(0.0..18_446_744_073_709_551_616.0).contains(&id)),
                    "{context}"
                );
                ids += 1;
            }
            // Documented: binary, array and object map keys are refused.
            (Some(_), Err(DecodeError::InvalidMsgpack { .. })) => keys += 1,
            _ => panic!("disagreement\n{context}"),
        }
    }
    assert!(keys <= 3, "more key refusals than the corpus holds: {keys}");
    eprintln!(
        "{} msgpack decode cases: {same} identical packets, {refused} refused by both, {reserved} reserved \
         names and {ids} ack ids refused by the codec only, {keys} non-string map keys refused",
        cases.len()
    );
}

#[test]
fn decoded_binary_shares_the_frame() {
    let frame = msgpack::encode(&Packet::event(
        "/",
        "f",
        vec![Value::from(vec![7u8; 40])],
        None,
    ));
    let packet =
        msgpack::decode(frame.clone(), &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    let Some(Value::Binary(b)) = packet.args().first() else {
        panic!("{packet:?}")
    };
    let inside = frame.as_ptr() as usize..frame.as_ptr() as usize + frame.len();
    assert!(inside.contains(&(b.as_ptr() as usize)), "binary was copied");
}

#[test]
fn deep_nesting_is_bounded() {
    let mut frame = b"\x83\xa4type\x02\xa4data\x92\xa1x".to_vec();
    frame.extend(std::iter::repeat_n(0x91u8, 5000));
    frame.push(0xc0);
    frame.extend_from_slice(b"\xa3nsp\xa1/");
    assert_eq!(
        msgpack::decode(Bytes::from(frame), &Limits::default()).map(|_| ()),
        Err(DecodeError::NestingTooDeep { max: 1025 })
    );
}
