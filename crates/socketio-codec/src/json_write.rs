//! Writing a [`Value`] as JSON text, byte for byte as `JSON.stringify`.
//!
//! This module owns the output side of JSON: string escaping, JavaScript key order
//! and what binary becomes (numbered placeholders in EVENT and ACK packets, Node.js's
//! `Buffer` form elsewhere). Number formatting lives in `number`; parsing in
//! `json_parse`.

use bytes::{Bytes, BytesMut};

use crate::js::array_index;
use crate::value::Value;

/// What binary data becomes in the JSON text.
#[derive(Debug)]
pub(crate) enum BinaryMode<'a> {
    /// `{"type":"Buffer","data":[1,2]}`, as `JSON.stringify` writes a Node.js
    /// `Buffer` (binary inside CONNECT or CONNECT_ERROR data is sent that way).
    NodeBuffer,
    /// `{"_placeholder":true,"num":N}`, numbered depth-first in writing order, the
    /// bytes pushed to the list: socket.io-parser's `deconstructPacket`.
    Placeholders(&'a mut Vec<Bytes>),
}

/// Writes `value` as `JSON.stringify` would.
///
/// Recursive: decoded values are bounded by `Limits::max_depth`.
pub(crate) fn write(value: &Value, out: &mut BytesMut, mode: &mut BinaryMode<'_>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => n.write_json(out),
        Value::String(s) => write_str(s, out),
        Value::Binary(b) => write_binary(b, out, mode),
        Value::Array(items) => {
            out.extend_from_slice(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b",");
                }
                write(item, out, mode);
            }
            out.extend_from_slice(b"]");
        }
        Value::Object(fields) => {
            out.extend_from_slice(b"{");
            let mut first = true;
            let mut field = |(key, value): &(String, Value), out: &mut BytesMut| {
                if !std::mem::take(&mut first) {
                    out.extend_from_slice(b",");
                }
                write_str(key, out);
                out.extend_from_slice(b":");
                write(value, out, mode);
            };
            match key_order(fields) {
                None => fields.iter().for_each(|f| field(f, out)),
                Some(order) => order.into_iter().for_each(|i| field(&fields[i], out)),
            }
            out.extend_from_slice(b"}");
        }
    }
}

fn write_binary(bytes: &Bytes, out: &mut BytesMut, mode: &mut BinaryMode<'_>) {
    use std::fmt::Write as _;
    match mode {
        BinaryMode::Placeholders(buffers) => {
            // Key order exactly as socket.io-parser builds the object.
            let _ = write!(out, r#"{{"_placeholder":true,"num":{}}}"#, buffers.len());
            buffers.push(bytes.clone());
        }
        BinaryMode::NodeBuffer => {
            out.extend_from_slice(br#"{"type":"Buffer","data":["#);
            for (i, b) in bytes.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b",");
                }
                let _ = write!(out, "{b}");
            }
            out.extend_from_slice(b"]}");
        }
    }
}

/// The order in which JavaScript lists an object's keys, when it differs from the
/// stored order: array-index keys (`"0"`, `"42"`) first, ascending, then the rest
/// in insertion order. `None` when the stored order is already right.
pub(crate) fn key_order(fields: &[(String, Value)]) -> Option<Vec<usize>> {
    // Fast path: most objects have no numeric keys at all.
    if !fields.iter().any(|(k, _)| array_index(k).is_some()) {
        return None;
    }
    let mut indexed: Vec<(u32, usize)> = Vec::new();
    let mut named: Vec<usize> = Vec::new();
    for (i, (k, _)) in fields.iter().enumerate() {
        match array_index(k) {
            Some(n) => indexed.push((n, i)),
            None => named.push(i),
        }
    }
    indexed.sort_by_key(|(n, _)| *n);
    Some(indexed.into_iter().map(|(_, i)| i).chain(named).collect())
}

/// Bytes that `JSON.stringify` escapes inside a string: controls, `"` and `\`.
const fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Writes a JSON string literal as `JSON.stringify` does: `"`, `\` and control
/// characters are escaped (the short forms `\b \f \n \r \t` where they exist,
/// `\u00XX` with lower-case hex otherwise); `/` and non-ASCII are written as they
/// are. A Rust `str` holds no lone surrogates, the only other escaped characters.
pub(crate) fn write_str(s: &str, out: &mut BytesMut) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.extend_from_slice(b"\"");
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0C => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xF)],
            ]),
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.extend_from_slice(b"\"");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: &Value) -> String {
        let mut out = BytesMut::new();
        write(v, &mut out, &mut BinaryMode::NodeBuffer);
        String::from_utf8(out.to_vec()).unwrap_or_default()
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
    fn strings_escape_as_json_stringify() {
        let s = "a\"b\\c/d\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}é\u{2028}😀";
        assert_eq!(
            json(&Value::from(s)),
            "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}é\u{2028}😀\""
        );
        assert_eq!(json(&Value::from("")), r#""""#);
    }

    #[test]
    fn integer_keys_come_first() {
        let v = obj(&[
            ("b", Value::from(1u64)),
            ("10", Value::from(2u64)),
            ("a", Value::Null),
            ("2", Value::from(true)),
            ("01", Value::from(false)),
            ("4294967295", Value::from("big")),
        ]);
        assert_eq!(
            json(&v),
            r#"{"2":true,"10":2,"b":1,"a":null,"01":false,"4294967295":"big"}"#
        );
    }

    #[test]
    fn placeholders_are_numbered_depth_first_in_key_order() {
        let v = Value::Array(vec![
            obj(&[("z", Value::from(vec![1u8])), ("0", Value::from(vec![2u8]))]),
            Value::from(vec![3u8]),
        ]);
        let mut buffers = Vec::new();
        let mut out = BytesMut::new();
        write(&v, &mut out, &mut BinaryMode::Placeholders(&mut buffers));
        assert_eq!(
            &out[..],
            br#"[{"0":{"_placeholder":true,"num":0},"z":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":2}]"#
        );
        assert_eq!(
            buffers,
            [
                Bytes::from_static(&[2]),
                Bytes::from_static(&[1]),
                Bytes::from_static(&[3])
            ]
        );
    }

    #[test]
    fn scalars() {
        assert_eq!(
            json(&Value::Array(vec![
                Value::Null,
                true.into(),
                false.into(),
                1.5.into()
            ])),
            "[null,true,false,1.5]"
        );
        assert_eq!(json(&Value::from(f64::NAN)), "null");
        assert_eq!(
            json(&Value::from(vec![0u8, 255])),
            r#"{"type":"Buffer","data":[0,255]}"#
        );
        assert_eq!(json(&obj(&[])), "{}");
        assert_eq!(json(&Value::Array(vec![])), "[]");
    }
}
