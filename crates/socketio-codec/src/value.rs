//! The values carried by Socket.IO packets.
//!
//! This module owns [`Value`]: JSON plus binary, with object keys in order, and the
//! conversions from and to Rust types and `serde_json`. How values are written and
//! read on the wire lives in `json_write` and `json_parse`; how binary becomes
//! attachments lives in `encode` and `decode`.

use bytes::Bytes;

use crate::error::DecodeError;
use crate::number::Number;

/// A JSON value that may hold binary data, as a Socket.IO event argument does.
///
/// Objects are a list of `(key, value)` pairs in order. Decoded objects follow what
/// `JSON.parse` builds: a repeated key keeps its first position and its last value,
/// and keys that are array indices (`"0"`, `"17"`) come first in ascending order.
/// The encoder writes keys in that same JavaScript order, so a Rust-built
/// `{"b":1,"1":2}` goes on the wire as `{"1":2,"b":1}`, as the reference server
/// would send it. A key repeated in a Rust-built object is written twice (a
/// JavaScript reader keeps the last, as [`Value::get`] does).
///
/// Values are dropped, cloned and compared recursively: values decoded from the
/// wire are bounded by [`Limits::max_depth`](crate::Limits); a value built in Rust
/// nested hundreds of thousands of levels deep could exhaust the stack.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// `null` (JavaScript's `undefined` inside arrays is written as `null` too).
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// Binary data: sent as an attachment frame in EVENT and ACK packets.
    Binary(Bytes),
    /// An array.
    Array(Vec<Value>),
    /// An object, keys in order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as a `u64`, if this is a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_number().and_then(Number::as_u64)
    }

    /// The number as an `i64`, if this is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The number as an `f64`, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }

    /// The bytes, if this is binary.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Value::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The fields, if this is an object.
    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value of `key`, if this is an object that has it (the last one wins, as in
    /// JavaScript, should a Rust-built object repeat a key).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Whether binary data occurs anywhere inside.
    pub fn has_binary(&self) -> bool {
        let mut stack = vec![self];
        while let Some(v) = stack.pop() {
            match v {
                Value::Binary(_) => return true,
                Value::Array(a) => stack.extend(a.iter()),
                Value::Object(o) => stack.extend(o.iter().map(|(_, v)| v)),
                _ => {}
            }
        }
        false
    }

    /// The value as JSON text, exactly as `JSON.stringify` writes it; binary is
    /// written as Node.js writes a `Buffer`: `{"type":"Buffer","data":[1,2]}`.
    pub fn to_json_string(&self) -> String {
        let mut out = bytes::BytesMut::new();
        crate::json_write::write(
            self,
            &mut out,
            &mut crate::json_write::BinaryMode::NodeBuffer,
        );
        // The writer only emits UTF-8 (it copies whole `str`s and ASCII).
        String::from_utf8(out.to_vec()).unwrap_or_default()
    }

    /// Parses JSON text as `JSON.parse` does (see the crate docs for the one
    /// exception, lone surrogates), nesting at most `Limits::default().max_depth`.
    ///
    /// ```
    /// use socketio_codec::Value;
    /// let v = Value::from_json_str(r#"{"b":1,"0":[true]}"#).unwrap_or_default();
    /// assert_eq!(v.to_json_string(), r#"{"0":[true],"b":1}"#);
    /// ```
    pub fn from_json_str(text: &str) -> Result<Value, DecodeError> {
        Value::from_json_str_with_depth(text, crate::Limits::default().max_depth)
    }

    /// [`from_json_str`](Value::from_json_str) nesting at most `max_depth` arrays
    /// and objects.
    pub fn from_json_str_with_depth(text: &str, max_depth: usize) -> Result<Value, DecodeError> {
        crate::json_parse::parse(text, max_depth).map_err(|e| match e {
            crate::json_parse::ParseError::Syntax { offset } => DecodeError::InvalidJson { offset },
            crate::json_parse::ParseError::TooDeep => {
                DecodeError::NestingTooDeep { max: max_depth }
            }
        })
    }

    /// The value as `serde_json`. Binary becomes Node.js's JSON form of a `Buffer`,
    /// `{"type":"Buffer","data":[bytes...]}`; non-finite numbers become `null`. Key
    /// order follows `serde_json`'s map (sorted unless its `preserve_order` is on).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Binary(b) => {
                let data = b.iter().map(|x| serde_json::Value::from(*x)).collect();
                serde_json::json!({ "type": "Buffer", "data": serde_json::Value::Array(data) })
            }
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Value::to_json).collect()),
            Value::Object(o) => {
                serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

fn number_to_json(n: &Number) -> serde_json::Value {
    if let Some(u) = n.as_u64().filter(|_| n.is_integer()) {
        return serde_json::Value::from(u);
    }
    if let Some(i) = n.as_i64().filter(|_| n.is_integer()) {
        return serde_json::Value::from(i);
    }
    serde_json::Number::from_f64(n.as_f64())
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(if let Some(u) = n.as_u64() {
                Number::from(u)
            } else if let Some(i) = n.as_i64() {
                Number::from(i)
            } else {
                Number::from(n.as_f64().unwrap_or(f64::NAN))
            }),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                Value::Object(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Self {
        Value::Array(a)
    }
}

impl From<Vec<(String, Value)>> for Value {
    fn from(o: Vec<(String, Value)>) -> Self {
        Value::Object(o)
    }
}

impl From<Bytes> for Value {
    fn from(b: Bytes) -> Self {
        Value::Binary(b)
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Binary(Bytes::from(b))
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

macro_rules! from_number {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Self {
                Value::Number(Number::from(n))
            }
        }
    )*};
}
from_number!(u64, i64, u32, i32, usize, f64, f32);

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_serde_json_keeps_numbers_exact() {
        let v = Value::from(serde_json::json!({"a": [1, -2, 1.5, "x", null, true]}));
        let a = v.get("a").and_then(Value::as_array).unwrap_or_default();
        assert_eq!(a[0].as_u64(), Some(1));
        assert_eq!(a[1].as_i64(), Some(-2));
        assert_eq!(a[2].as_f64(), Some(1.5));
        assert_eq!(a[3].as_str(), Some("x"));
        assert!(a[4].is_null());
        assert_eq!(a[5].as_bool(), Some(true));
    }

    #[test]
    fn to_json_writes_binary_as_node_buffer() {
        let v = Value::Array(vec![Value::from(vec![1u8, 2]), Value::from(2.5)]);
        assert_eq!(
            v.to_json(),
            serde_json::json!([{"type": "Buffer", "data": [1, 2]}, 2.5])
        );
        assert_eq!(
            v.to_json_string(),
            r#"[{"type":"Buffer","data":[1,2]},2.5]"#
        );
    }

    #[test]
    fn get_and_has_binary() {
        let v = Value::Object(vec![
            ("k".into(), Value::from(1u64)),
            (
                "deep".into(),
                Value::Array(vec![Value::Array(vec![Value::from(Bytes::new())])]),
            ),
        ]);
        assert_eq!(v.get("k").and_then(Value::as_u64), Some(1));
        assert!(v.get("missing").is_none());
        assert!(v.has_binary());
        assert!(!Value::from("x").has_binary());
    }
}
