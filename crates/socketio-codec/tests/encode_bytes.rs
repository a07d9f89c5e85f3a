//! The exact bytes the encoder writes, one test per path, checked against what
//! socket.io-parser 4.2.7's `Encoder` writes for the same packet.

use bytes::{Bytes, BytesMut};
use socketio_codec::{Packet, PacketKind, ProtocolVersion, Value};

const V5: ProtocolVersion = ProtocolVersion::V5;
const V4: ProtocolVersion = ProtocolVersion::V4;

fn text(p: &Packet, v: ProtocolVersion) -> String {
    String::from_utf8(p.encode(v).text.to_vec()).unwrap_or_default()
}

fn obj(fields: &[(&str, Value)]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

#[test]
fn connect() {
    assert_eq!(text(&Packet::connect("/", None), V5), "0");
    assert_eq!(text(&Packet::connect("/admin", None), V5), "0/admin,");
    assert_eq!(text(&Packet::connect("/", Some(Value::Null)), V5), "0");
    let sid = obj(&[("sid", Value::from("abc"))]);
    assert_eq!(
        text(&Packet::connect("/", Some(sid.clone())), V5),
        r#"0{"sid":"abc"}"#
    );
    assert_eq!(
        text(&Packet::connect("/a", Some(sid)), V4),
        r#"0/a,{"sid":"abc"}"#
    );
    // An empty namespace is left out, as the reference does.
    assert_eq!(text(&Packet::connect("", None), V5), "0");
}

#[test]
fn disconnect() {
    assert_eq!(text(&Packet::disconnect("/"), V5), "1");
    assert_eq!(text(&Packet::disconnect("/chat"), V5), "1/chat,");
}

#[test]
fn event() {
    assert_eq!(
        text(&Packet::event("/", "hi", vec![], None), V5),
        r#"2["hi"]"#
    );
    let args = vec![
        Value::from(1u64),
        Value::from("é\n"),
        Value::Null,
        obj(&[("b", true.into()), ("1", 2.5.into())]),
    ];
    assert_eq!(
        text(&Packet::event("/chat", "msg", args, Some(42)), V5),
        r#"2/chat,42["msg",1,"é\n",null,{"1":2.5,"b":true}]"#
    );
    assert_eq!(
        text(&Packet::event("/", "x", vec![], Some(u64::MAX)), V5),
        r#"218446744073709551615["x"]"#
    );
}

#[test]
fn ack() {
    assert_eq!(text(&Packet::ack("/", 0, vec![]), V5), "30[]");
    assert_eq!(
        text(&Packet::ack("/a", 7, vec![Value::from("ok")]), V5),
        r#"3/a,7["ok"]"#
    );
}

#[test]
fn binary_event_and_ack() {
    let args = vec![
        Value::from(vec![1u8]),
        obj(&[
            ("z", Value::from(vec![2u8])),
            ("list", Value::Array(vec![Value::from(Bytes::new())])),
        ]),
    ];
    let e = Packet::event("/up", "file", args.clone(), Some(3)).encode(V5);
    assert_eq!(
        &e.text[..],
        br#"53-/up,3["file",{"_placeholder":true,"num":0},{"z":{"_placeholder":true,"num":1},"list":[{"_placeholder":true,"num":2}]}]"#
    );
    assert_eq!(
        e.attachments,
        vec![
            Bytes::from_static(&[1]),
            Bytes::from_static(&[2]),
            Bytes::new()
        ]
    );

    let a = Packet::ack("/", 5, args).encode(V5);
    assert!(
        a.text
            .starts_with(b"63-5[{\"_placeholder\":true,\"num\":0}")
    );
    assert_eq!(a.attachments.len(), 3);
}

#[test]
fn binary_outside_events_is_a_node_buffer() {
    let p = Packet::connect("/", Some(obj(&[("k", Value::from(vec![7u8, 8]))])));
    let e = p.encode(V5);
    assert_eq!(&e.text[..], br#"0{"k":{"type":"Buffer","data":[7,8]}}"#);
    assert!(e.attachments.is_empty());
}

#[test]
fn connect_error_v5() {
    assert_eq!(
        text(&Packet::connect_error("/", "Invalid namespace", None), V5),
        r#"4{"message":"Invalid namespace"}"#
    );
    assert_eq!(
        text(
            &Packet::connect_error("/a", "no", Some(obj(&[("code", 3u64.into())]))),
            V5
        ),
        r#"4/a,{"message":"no","data":{"code":3}}"#
    );
}

#[test]
fn connect_error_v4_is_bare() {
    assert_eq!(
        text(&Packet::connect_error("/a", "Invalid namespace", None), V4),
        r#"4/a,"Invalid namespace""#
    );
    assert_eq!(
        text(
            &Packet::connect_error("/", "no", Some(Value::from(3u64))),
            V4
        ),
        "43"
    );
    // `err.data || err.message`: falsy data falls back to the message.
    assert_eq!(
        text(&Packet::connect_error("/", "no", Some(Value::from(""))), V4),
        r#"4"no""#
    );
    // A value not shaped like the v5 object is sent as it is.
    let raw = Packet {
        kind: PacketKind::ConnectError(Value::Array(vec![])),
        nsp: "/".into(),
        id: None,
    };
    assert_eq!(text(&raw, V4), "4[]");
    let null = Packet {
        kind: PacketKind::ConnectError(Value::Null),
        nsp: "/".into(),
        id: None,
    };
    assert_eq!(text(&null, V5), "4");
}

#[test]
fn encode_into_appends_to_the_callers_buffer() {
    let mut out = BytesMut::from(&b"prefix:"[..]);
    let att = Packet::event("/", "b", vec![Value::from(vec![9u8])], None).encode_into(V5, &mut out);
    assert_eq!(
        &out[..],
        br#"prefix:51-["b",{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(att, vec![Bytes::from_static(&[9])]);
}

#[test]
fn numbers_and_strings_as_javascript() {
    let args = vec![
        Value::from(0.1 + 0.2),
        Value::from(1e21),
        Value::from(-0.0),
        Value::from(f64::INFINITY),
        Value::from(-5i64),
        Value::from("\u{0}\u{1f}\"\\/\u{2028}\u{7f}😀"),
    ];
    assert_eq!(
        text(&Packet::ack("/", 1, args), V5),
        "31[0.30000000000000004,1e+21,0,null,-5,\"\\u0000\\u001f\\\"\\\\/\u{2028}\u{7f}😀\"]"
    );
}
