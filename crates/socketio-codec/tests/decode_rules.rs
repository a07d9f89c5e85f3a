//! What the decoder accepts and refuses, rule by rule, as socket.io-parser 4.2.7's
//! `Decoder` does (the exceptions are in the crate docs).

use bytes::Bytes;
use socketio_codec::{DecodeError, Decoder, Limits, Packet, PacketKind, ProtocolVersion, Value};

fn decoder() -> Decoder {
    Decoder::new(ProtocolVersion::V5, Limits::default())
}

fn decode(text: &str) -> Result<Option<Packet>, DecodeError> {
    decoder().decode_text(Bytes::copy_from_slice(text.as_bytes()))
}

fn packet(text: &str) -> Packet {
    match decode(text) {
        Ok(Some(p)) => p,
        other => panic!("{text:?}: {other:?}"),
    }
}

fn err(text: &str) -> DecodeError {
    match decode(text) {
        Err(e) => e,
        other => panic!("{text:?} decoded: {other:?}"),
    }
}

#[test]
fn accepted_packets() {
    assert_eq!(packet("0"), Packet::connect("/", None));
    assert_eq!(
        packet("0/admin?token=x,"),
        Packet::connect("/admin?token=x", None)
    );
    assert_eq!(
        packet(r#"0/a,{"token":"x"}"#).kind,
        PacketKind::Connect(Some(Value::Object(vec![("token".into(), "x".into())])))
    );
    assert_eq!(packet("1/a,"), Packet::disconnect("/a"));
    assert_eq!(
        packet(r#"2["ev",1]"#),
        Packet::event("/", "ev", vec![Value::from(1u64)], None)
    );
    assert_eq!(
        packet(r#"2/x,12["ev"]"#),
        Packet::event("/x", "ev", vec![], Some(12))
    );
    assert_eq!(
        packet(r#"2[1,"a"]"#).kind,
        PacketKind::Event(vec![Value::from(1u64), Value::from("a")])
    );
    assert_eq!(packet("35[]"), Packet::ack("/", 5, vec![]));
    assert_eq!(
        packet(r#"4{"message":"m"}"#).kind,
        PacketKind::ConnectError(Value::Object(vec![("message".into(), "m".into())]))
    );
    assert_eq!(
        packet(r#"4"m""#).kind,
        PacketKind::ConnectError(Value::from("m"))
    );
    assert_eq!(packet("4").kind, PacketKind::ConnectError(Value::Null));
    // Missing payloads, which the reference lets through.
    assert_eq!(packet("2").kind, PacketKind::Event(vec![]));
    assert_eq!(packet("37").kind, PacketKind::Ack(vec![]));
    // A placeholder in a plain EVENT stays an object.
    let p = packet(r#"2["e",{"_placeholder":true,"num":0}]"#);
    assert!(matches!(&p.args()[0], Value::Object(_)));
}

#[test]
fn refused_payloads() {
    assert_eq!(err("0[]"), DecodeError::InvalidConnectPayload);
    assert_eq!(err(r#"0"x""#), DecodeError::InvalidConnectPayload);
    assert_eq!(err("0null"), DecodeError::InvalidConnectPayload);
    assert_eq!(err("1{}"), DecodeError::InvalidDisconnectPayload);
    assert_eq!(err("2[]"), DecodeError::InvalidEventPayload);
    assert_eq!(err("2{}"), DecodeError::InvalidEventPayload);
    assert_eq!(err("2[null]"), DecodeError::InvalidEventPayload);
    assert_eq!(err("2[[\"a\"]]"), DecodeError::InvalidEventPayload);
    for name in [
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    ] {
        assert_eq!(
            err(&format!("2[\"{name}\"]")),
            DecodeError::ReservedEventName(name.into())
        );
    }
    assert_eq!(err("3{}"), DecodeError::InvalidAckPayload);
    assert_eq!(err("4[]"), DecodeError::InvalidConnectErrorPayload);
    assert_eq!(err("4true"), DecodeError::InvalidConnectErrorPayload);
    // A digit right after the type is an ack id, whatever the type.
    assert_eq!(packet("41").id, Some(1));
    assert_eq!(err("2[\"a\""), DecodeError::InvalidJson { offset: 4 });
    assert_eq!(err("8"), DecodeError::UnknownPacketType("8".into()));
    assert!(matches!(
        decoder().decode_text(Bytes::from_static(&[b'2', 0xFF])),
        Err(DecodeError::InvalidUtf8)
    ));
}

#[test]
fn v4_connect_error_takes_any_value() {
    let mut d = Decoder::new(ProtocolVersion::V4, Limits::default());
    let p = d.decode_text(Bytes::from_static(b"4/a,true"));
    assert_eq!(
        p.map(|p| p.map(|p| p.kind)),
        Ok(Some(PacketKind::ConnectError(Value::from(true))))
    );
}

#[test]
fn binary_reconstruction() {
    let mut d = decoder();
    let text = r#"62-/a,4[{"_placeholder":true,"num":1},{"x":[{"_placeholder":true,"num":0}]},{"_placeholder":true,"num":1}]"#;
    assert_eq!(d.decode_text(Bytes::from_static(text.as_bytes())), Ok(None));
    assert!(d.is_waiting());
    assert_eq!(d.decode_binary(Bytes::from_static(b"zero")), Ok(None));
    let p = d.decode_binary(Bytes::from_static(b"one")).ok().flatten();
    let one = Value::from(Bytes::from_static(b"one"));
    let x = Value::Object(vec![(
        "x".into(),
        Value::Array(vec![Value::from(Bytes::from_static(b"zero"))]),
    )]);
    assert_eq!(p, Some(Packet::ack("/a", 4, vec![one.clone(), x, one])));
    assert!(!d.is_waiting());
}

#[test]
fn binary_frame_order_errors() {
    let mut d = decoder();
    assert_eq!(
        d.decode_binary(Bytes::from_static(b"x")),
        Err(DecodeError::UnexpectedBinary)
    );
    assert_eq!(
        d.decode_text(Bytes::from_static(
            br#"51-["a",{"_placeholder":true,"num":0}]"#
        )),
        Ok(None)
    );
    assert_eq!(
        d.decode_text(Bytes::from_static(b"2[\"a\"]")),
        Err(DecodeError::UnexpectedText)
    );
    // The decoder was reset: a new packet decodes.
    assert!(matches!(
        d.decode_text(Bytes::from_static(b"2[\"a\"]")),
        Ok(Some(_))
    ));
}

#[test]
fn placeholder_errors() {
    for bad in [
        r#"{"_placeholder":true,"num":1}"#,
        r#"{"_placeholder":true,"num":-1}"#,
        r#"{"_placeholder":true}"#,
        r#"{"_placeholder":true,"num":"0"}"#,
        r#"{"_placeholder":true,"num":0.5}"#,
    ] {
        let mut d = decoder();
        let text = format!(r#"51-["a",{bad}]"#);
        assert_eq!(d.decode_text(Bytes::from(text)), Ok(None));
        assert_eq!(
            d.decode_binary(Bytes::new()),
            Err(DecodeError::PlaceholderOutOfRange),
            "{bad}"
        );
    }
}

#[test]
fn attachment_limits() {
    assert_eq!(err("5-[\"a\"]"), DecodeError::ZeroAttachments);
    assert_eq!(err("50-[\"a\"]"), DecodeError::ZeroAttachments);
    assert_eq!(
        err("511-[\"a\"]"),
        DecodeError::TooManyAttachments {
            count: "11".into(),
            max: 10
        }
    );
    assert_eq!(
        err("5x-[\"a\"]"),
        DecodeError::InvalidAttachmentCount("x".into())
    );
    let mut d = Decoder::new(
        ProtocolVersion::V5,
        Limits {
            max_attachments: 20,
            ..Limits::default()
        },
    );
    assert_eq!(d.decode_text(Bytes::from_static(b"511-[\"a\"]")), Ok(None));
}

#[test]
fn depth_limit_accepts_a_thousand_levels() {
    let arg = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let p = packet(&format!("2[\"deep\",{arg}]"));
    // Encoding it back gives the same bytes.
    assert_eq!(
        &p.encode(ProtocolVersion::V5).text[..],
        format!("2[\"deep\",{arg}]").as_bytes()
    );

    let too_deep = format!("2[\"deep\",{}{}]", "[".repeat(1024), "]".repeat(1024));
    assert_eq!(err(&too_deep), DecodeError::NestingTooDeep { max: 1024 });
    // Far deeper input fails fast without touching the stack.
    let huge = format!("2[\"deep\",{}", "[".repeat(1_000_000));
    assert_eq!(err(&huge), DecodeError::NestingTooDeep { max: 1024 });
}

#[test]
fn attachments_are_shared_not_copied() {
    let mut d = decoder();
    let text = Bytes::from_static(br#"51-["f",{"_placeholder":true,"num":0}]"#);
    assert_eq!(d.decode_text(text), Ok(None));
    let frame = Bytes::from(vec![9u8; 4096]);
    let packet = d.decode_binary(frame.clone()).ok().flatten();
    let shared = packet
        .as_ref()
        .and_then(|p| p.args().first())
        .and_then(Value::as_bytes);
    assert_eq!(shared.map(|b| b.as_ptr()), Some(frame.as_ptr()));
}
