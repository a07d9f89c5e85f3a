//! Helpers shared by the comparisons with the official Node parsers.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use socketio_codec::{Packet, PacketKind, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the official parser over a corpus file, one JSON value per case.
pub fn run_node(mode: &str, corpus: &str) -> Vec<Value> {
    let root = root();
    let install = "install Node.js (20 or later) and run `npm ci` in protocol-tests/ \
                   (scripts/test does this before `cargo test`)";
    let parser = root.join("protocol-tests/node_modules/socket.io-parser/package.json");
    assert!(
        parser.exists(),
        "the official parser is missing ({}): {install}",
        parser.display()
    );

    let output = Command::new("node")
        .arg(root.join("protocol-tests/parser-compat/run.mjs"))
        .arg(mode)
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/compat")
                .join(corpus),
        )
        .output()
        .unwrap_or_else(|e| panic!("cannot run `node` ({e}): {install}"));
    assert!(
        output.status.success(),
        "node failed: {}\n{install}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap_or_default();
    stdout
        .lines()
        .map(|l| Value::from_json_str_with_depth(l, 1 << 20).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

pub fn corpus(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compat")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| Value::from_json_str_with_depth(l, 1 << 20).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Bytes {
    let digits: Vec<u8> = s
        .bytes()
        .map(|c| (c as char).to_digit(16).unwrap_or(0) as u8)
        .collect();
    digits
        .chunks(2)
        .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0))
        .collect::<Vec<u8>>()
        .into()
}

/// `{"$bin":"hex"}` in the corpus becomes binary, and back.
pub fn revive(v: &Value) -> Value {
    match v {
        Value::Object(f) if f.len() == 1 && f[0].0 == "$bin" => {
            unhex(f[0].1.as_str().unwrap_or("")).into()
        }
        Value::Object(f) => Value::Object(f.iter().map(|(k, v)| (k.clone(), revive(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(revive).collect()),
        other => other.clone(),
    }
}

pub fn describe(v: &Value) -> Value {
    match v {
        Value::Binary(b) => Value::Object(vec![("$bin".into(), hex(b).into())]),
        Value::Object(f) => {
            Value::Object(f.iter().map(|(k, v)| (k.clone(), describe(v))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(describe).collect()),
        other => other.clone(),
    }
}

/// Our packet in the shape run.mjs prints.
pub fn describe_packet(p: &Packet) -> Value {
    let (ty, data) = match &p.kind {
        PacketKind::Connect(d) => (0u64, d.clone()),
        PacketKind::Disconnect => (1, None),
        PacketKind::Event(d) => (2, Some(Value::Array(d.clone()))),
        PacketKind::Ack(d) => (3, Some(Value::Array(d.clone()))),
        PacketKind::ConnectError(Value::Null) => (4, None),
        PacketKind::ConnectError(d) => (4, Some(d.clone())),
    };
    let mut fields = vec![
        ("type".to_owned(), Value::from(ty)),
        ("nsp".to_owned(), Value::from(p.nsp.as_str())),
    ];
    if let Some(id) = p.id {
        fields.push(("id".into(), Value::from(id)));
    }
    if let Some(d) = data {
        fields.push(("data".into(), describe(&d)));
    }
    Value::Object(fields)
}

/// The reference's packet with its id (a string, to show `NaN`) as a number.
pub fn normalize_reference(step: &Value) -> (Value, Option<f64>) {
    let fields = step.as_object().unwrap_or_default();
    let id = step
        .get("id")
        .and_then(Value::as_str)
        .map(|s| s.parse::<f64>().unwrap_or(f64::NAN));
    let fields = fields
        .iter()
        .map(|(k, v)| match (k.as_str(), id) {
            ("id", Some(id)) if id.is_finite() && id < 18_446_744_073_709_551_616.0 => {
                (k.clone(), Value::from(id as u64))
            }
            _ => (k.clone(), v.clone()),
        })
        .collect();
    (Value::Object(fields), id)
}
