//! Encode and decode of typical packets, text form and MessagePack.
//!
//! `cargo bench -p socketio-codec`; figures in docs/benchmarks.md, next to the
//! official Node parser on the same packets (protocol-tests/parser-compat/bench.mjs).

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use socketio_codec::{Decoder, Limits, Packet, ProtocolVersion, Value, msgpack};

/// The packets measured; bench.mjs builds the same ones.
fn packets() -> Vec<(&'static str, Packet)> {
    let small = Packet::event(
        "/",
        "message",
        vec![Value::from("hello"), Value::from(42u64)],
        None,
    );

    // About 1 KB of JSON: an object like a chat or webhook event.
    let item = |i: u64| {
        Value::Object(vec![
            ("id".into(), Value::from(i)),
            ("user".into(), Value::from(format!("user-{i}"))),
            (
                "text".into(),
                Value::from("Lorem ipsum dolor sit amet, consectetur adipiscing elit"),
            ),
            ("score".into(), Value::from(i as f64 * 1.25)),
            ("tags".into(), Value::Array(vec!["a".into(), "b".into()])),
            ("read".into(), Value::from(i % 2 == 0)),
        ])
    };
    let kb = Packet::event(
        "/chat",
        "messages.upsert",
        vec![Value::Array((0..7).map(item).collect())],
        Some(12),
    );

    let binary = Packet::event(
        "/",
        "upload",
        vec![
            Value::from(vec![1u8; 64]),
            Value::Object(vec![
                ("thumb".into(), Value::from(vec![2u8; 256])),
                ("name".into(), "a.png".into()),
            ]),
            Value::from(vec![3u8; 1024]),
        ],
        None,
    );
    let ack = Packet::ack(
        "/",
        7,
        vec![Value::Object(vec![("ok".into(), true.into())])],
    );
    vec![
        ("small_event", small),
        ("1kb_event", kb),
        ("binary_event_3_attachments", binary),
        ("ack", ack),
    ]
}

fn text(c: &mut Criterion) {
    for (name, packet) in packets() {
        let encoded = packet.encode(ProtocolVersion::V5);
        let mut group = c.benchmark_group(format!("text/{name}"));
        group.throughput(Throughput::Bytes(encoded.text.len() as u64));
        group.bench_function("encode", |b| {
            b.iter(|| black_box(&packet).encode(ProtocolVersion::V5))
        });
        group.bench_function("decode", |b| {
            b.iter(|| {
                let mut decoder = Decoder::new(ProtocolVersion::V5, Limits::default());
                let mut out = decoder.decode_text(encoded.text.clone());
                for a in &encoded.attachments {
                    out = decoder.decode_binary(a.clone());
                }
                black_box(out)
            })
        });
        group.finish();
    }
}

fn messagepack(c: &mut Criterion) {
    for (name, packet) in packets() {
        let frame: Bytes = msgpack::encode(&packet);
        let mut group = c.benchmark_group(format!("msgpack/{name}"));
        group.throughput(Throughput::Bytes(frame.len() as u64));
        group.bench_function("encode", |b| b.iter(|| msgpack::encode(black_box(&packet))));
        group.bench_function("decode", |b| {
            b.iter(|| black_box(msgpack::decode(frame.clone(), &Limits::default())))
        });
        group.finish();
    }
}

criterion_group!(benches, text, messagepack);
criterion_main!(benches);
