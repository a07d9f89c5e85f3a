//! The exact bytes of the MessagePack parser (notepack.io's choices), and its
//! validation rules, one test per path.

use bytes::Bytes;
use socketio_codec::{DecodeError, Limits, Packet, PacketKind, Value, msgpack};

fn args_bytes(args: Vec<Value>) -> Vec<u8> {
    // `2` packet on `/` with data [args...]: strip the fixed frame around the data.
    let frame = msgpack::encode(&Packet {
        kind: PacketKind::Ack(args),
        nsp: "/".into(),
        id: None,
    });
    let prefix = b"\x83\xa4type\x03\xa4data".len();
    let suffix = b"\xa3nsp\xa1/".len();
    frame[prefix..frame.len() - suffix].to_vec()
}

fn decode(frame: &[u8]) -> Result<Packet, DecodeError> {
    msgpack::decode(Bytes::copy_from_slice(frame), &Limits::default())
}

#[test]
fn numbers_follow_notepack() {
    let cases: Vec<(Value, &[u8])> = vec![
        (0u64.into(), b"\x00"),
        ((-0.0).into(), b"\x00"),
        (127u64.into(), b"\x7f"),
        (128u64.into(), b"\xcc\x80"),
        (65535u64.into(), b"\xcd\xff\xff"),
        (65536u64.into(), b"\xce\x00\x01\x00\x00"),
        (
            4294967296u64.into(),
            b"\xcf\x00\x00\x00\x01\x00\x00\x00\x00",
        ),
        ((-1i64).into(), b"\xff"),
        ((-32i64).into(), b"\xe0"),
        ((-33i64).into(), b"\xd0\xdf"),
        ((-129i64).into(), b"\xd1\xff\x7f"),
        ((-32769i64).into(), b"\xd2\xff\xff\x7f\xff"),
        (
            (-2147483649i64).into(),
            b"\xd3\xff\xff\xff\xff\x7f\xff\xff\xff",
        ),
        (1.5.into(), b"\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00"),
        (3.0.into(), b"\x03"),
        (
            f64::INFINITY.into(),
            b"\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00",
        ),
        // Doubles past 2^64 wrap as notepack's 32-bit stores do.
        (
            18446744073709551616.0.into(),
            b"\xcf\x00\x00\x00\x00\x00\x00\x00\x00",
        ),
    ];
    for (value, bytes) in cases {
        let mut expected = vec![0x91];
        expected.extend_from_slice(bytes);
        assert_eq!(args_bytes(vec![value.clone()]), expected, "{value:?}");
    }
}

#[test]
fn strings_binary_and_containers() {
    assert_eq!(args_bytes(vec!["".into()]), b"\x91\xa0");
    assert_eq!(args_bytes(vec!["é".into()]), b"\x91\xa2\xc3\xa9");
    let s32 = "x".repeat(32);
    assert_eq!(args_bytes(vec![s32.as_str().into()])[..3], [0x91, 0xd9, 32]);
    let s256 = "x".repeat(256);
    assert_eq!(
        args_bytes(vec![s256.as_str().into()])[..4],
        [0x91, 0xda, 1, 0]
    );
    assert_eq!(
        args_bytes(vec![Value::from(vec![1u8, 2])]),
        b"\x91\xc4\x02\x01\x02"
    );
    assert_eq!(
        args_bytes(vec![Value::Array(vec![Value::Null; 16])])[..4],
        [0x91, 0xdc, 0, 16]
    );
    let obj = Value::Object(vec![("b".into(), true.into()), ("1".into(), false.into())]);
    assert_eq!(args_bytes(vec![obj]), b"\x91\x82\xa11\xc2\xa1b\xc3");
}

#[test]
fn packet_key_order_follows_the_reference_server() {
    let ack = msgpack::encode(&Packet::ack("/a", 7, vec![]));
    assert_eq!(
        &ack[..],
        b"\x84\xa2id\x07\xa4type\x03\xa4data\x90\xa3nsp\xa2/a"
    );
    let event = msgpack::encode(&Packet::event("/", "e", vec![], Some(1)));
    assert_eq!(
        &event[..],
        b"\x84\xa4type\x02\xa4data\x91\xa1e\xa2id\x01\xa3nsp\xa1/"
    );
    let connect = msgpack::encode(&Packet::connect("/", None));
    assert_eq!(&connect[..], b"\x82\xa4type\x00\xa3nsp\xa1/");
    let disconnect = msgpack::encode(&Packet::disconnect("/x"));
    assert_eq!(&disconnect[..], b"\x82\xa4type\x01\xa3nsp\xa2/x");
}

#[test]
fn decoding_rules() {
    // The official client sends `data: undefined` when it has no auth, and `options`.
    assert_eq!(
        decode(b"\x83\xa4type\x00\xa4data\xd4\x00\x00\xa3nsp\xa1/"),
        Ok(Packet::connect("/", None))
    );
    let with_options =
        b"\x84\xa4type\x02\xa4data\x91\xa1e\xa7options\x81\xa8compress\xc3\xa3nsp\xa1/";
    assert_eq!(
        decode(with_options),
        Ok(Packet::event("/", "e", vec![], None))
    );
    // Whole doubles are whole numbers.
    let float_type =
        b"\x83\xa4type\xcb\x40\x00\x00\x00\x00\x00\x00\x00\xa4data\x91\xa1e\xa3nsp\xa1/";
    assert_eq!(
        decode(float_type).map(|p| p.kind),
        Ok(PacketKind::Event(vec!["e".into()]))
    );

    assert_eq!(
        decode(b"\x82\xa4type\x05\xa3nsp\xa1/"),
        Err(DecodeError::UnknownPacketType("5".into()))
    );
    assert_eq!(
        decode(b"\x82\xa4type\x01\xa3nsp\x01"),
        Err(DecodeError::InvalidNamespace)
    );
    assert_eq!(
        decode(b"\x83\xa4type\x02\xa4data\x80\xa3nsp\xa1/"),
        Err(DecodeError::InvalidEventPayload)
    );
    assert_eq!(
        decode(b"\x83\xa4type\x02\xa4data\x91\xa7connect\xa3nsp\xa1/"),
        Err(DecodeError::ReservedEventName("connect".into()))
    );
    assert_eq!(
        decode(b"\x84\xa4type\x03\xa4data\x90\xa2id\xff\xa3nsp\xa1/"),
        Err(DecodeError::InvalidAckId("-1".into()))
    );
    assert_eq!(
        decode(b"\x82\xa4type\x01\xa3nsp\xa1/\x00"),
        Err(DecodeError::InvalidMsgpack { offset: 13 })
    );
    assert_eq!(
        decode(b"\xc1"),
        Err(DecodeError::InvalidMsgpack { offset: 0 })
    );
    assert_eq!(
        decode(b"\xdd\xff\xff\xff\xff"),
        Err(DecodeError::InvalidMsgpack { offset: 5 })
    );
    assert!(matches!(
        decode(b"\x91\x00"),
        Err(DecodeError::UnknownPacketType(_))
    ));
}
