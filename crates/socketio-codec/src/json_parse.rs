//! Reading JSON text into a [`Value`], accepting exactly what `JSON.parse` accepts.
//!
//! This module owns the input side of JSON. The parser is iterative (an explicit
//! stack, no recursion), so nesting is bounded by `Limits::max_depth` and never by
//! the thread's stack; the reference accepts arguments 1,000 levels deep.
//!
//! What it builds follows `JSON.parse`:
//! - numbers: an integer literal within ±2^53 stays an exact integer, any other
//!   literal is the nearest double (`1e400` is `Infinity`, written back as `null`);
//! - objects: a repeated key keeps its first position and its last value, and
//!   array-index keys (`"0"`, `"7"`) come first in ascending order;
//! - strings: a `\uXXXX` escape naming a lone surrogate (`"\ud800"`, legal in JSON
//!   and kept by JavaScript) becomes U+FFFD, because a Rust `String` cannot hold it.
//!   This is the one place where decoding and re-encoding is not byte-exact: the
//!   reference would write `"\ud800"` back, this crate writes `"\u{FFFD}"` (the same
//!   replacement a browser's `TextEncoder` makes).

use crate::js::array_index;
use crate::number::{MAX_SAFE, Number};
use crate::value::Value;

/// Why a JSON text was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// Not JSON; `offset` is the byte where reading stopped.
    Syntax { offset: usize },
    /// Arrays and objects nested deeper than allowed.
    TooDeep,
}

/// A container being filled.
enum Frame {
    Array(Vec<Value>),
    /// The fields so far and the key whose value is being read.
    Object(Vec<(String, Value)>, String),
}

/// Parses one JSON text (white space around it allowed, nothing else), nesting at
/// most `max_depth` arrays and objects.
pub(crate) fn parse(text: &str, max_depth: usize) -> Result<Value, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    let mut stack: Vec<Frame> = Vec::new();

    'value: loop {
        // Read one value; containers push a frame and go back for their first item.
        p.skip_ws();
        let mut value = match p.peek() {
            Some(b'[') => {
                if stack.len() >= max_depth {
                    return Err(ParseError::TooDeep);
                }
                p.pos += 1;
                p.skip_ws();
                if p.eat(b']') {
                    Value::Array(Vec::new())
                } else {
                    stack.push(Frame::Array(Vec::new()));
                    continue 'value;
                }
            }
            Some(b'{') => {
                if stack.len() >= max_depth {
                    return Err(ParseError::TooDeep);
                }
                p.pos += 1;
                p.skip_ws();
                if p.eat(b'}') {
                    Value::Object(Vec::new())
                } else {
                    let key = p.key()?;
                    stack.push(Frame::Object(Vec::new(), key));
                    continue 'value;
                }
            }
            Some(b'"') => Value::String(p.string()?),
            Some(b't') => p.literal(b"true", Value::Bool(true))?,
            Some(b'f') => p.literal(b"false", Value::Bool(false))?,
            Some(b'n') => p.literal(b"null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => Value::Number(p.number()?),
            _ => return Err(p.error()),
        };

        // Hand the value to its container; a closed container is itself a value.
        loop {
            let Some(frame) = stack.last_mut() else {
                p.skip_ws();
                return if p.pos == p.s.len() {
                    Ok(value)
                } else {
                    Err(p.error())
                };
            };
            p.skip_ws();
            match frame {
                Frame::Array(items) => {
                    items.push(value);
                    if p.eat(b',') {
                        continue 'value;
                    }
                    if !p.eat(b']') {
                        return Err(p.error());
                    }
                }
                Frame::Object(fields, key) => {
                    fields.push((std::mem::take(key), value));
                    if p.eat(b',') {
                        p.skip_ws();
                        *key = p.key()?;
                        continue 'value;
                    }
                    if !p.eat(b'}') {
                        return Err(p.error());
                    }
                }
            }
            value = match stack.pop() {
                Some(Frame::Array(items)) => Value::Array(items),
                Some(Frame::Object(fields, _)) => Value::Object(normalize_object(fields)),
                None => return Err(p.error()),
            };
        }
    }
}

/// Gives an object `JSON.parse`'s shape: last value wins at the first position of a
/// repeated key; array-index keys first, ascending.
pub(crate) fn normalize_object(mut fields: Vec<(String, Value)>) -> Vec<(String, Value)> {
    if has_duplicates(&fields) {
        let mut kept: Vec<(String, Value)> = Vec::with_capacity(fields.len());
        let mut seen = std::collections::HashMap::<String, usize>::new();
        for (k, v) in fields {
            match seen.get(&k) {
                Some(&i) => kept[i].1 = v,
                None => {
                    seen.insert(k.clone(), kept.len());
                    kept.push((k, v));
                }
            }
        }
        fields = kept;
    }
    if fields.iter().any(|(k, _)| array_index(k).is_some()) {
        // Stable: named keys keep their order behind the indices.
        fields.sort_by_key(|(k, _)| array_index(k).map_or((1, 0), |n| (0, n)));
    }
    fields
}

fn has_duplicates(fields: &[(String, Value)]) -> bool {
    if fields.len() <= 12 {
        return fields
            .iter()
            .enumerate()
            .any(|(i, (k, _))| fields[..i].iter().any(|(j, _)| j == k));
    }
    let mut seen = std::collections::HashSet::with_capacity(fields.len());
    !fields.iter().all(|(k, _)| seen.insert(k.as_str()))
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    fn error(&self) -> ParseError {
        ParseError::Syntax { offset: self.pos }
    }

    /// JSON white space is only these four (not JavaScript's wider set).
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, ParseError> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error())
        }
    }

    /// An object key and its `:`.
    fn key(&mut self) -> Result<String, ParseError> {
        if self.peek() != Some(b'"') {
            return Err(self.error());
        }
        let key = self.string()?;
        self.skip_ws();
        if !self.eat(b':') {
            return Err(self.error());
        }
        Ok(key)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1; // the opening quote
        let start = self.pos;

        // Fast path: no escapes, borrow the run straight from the input.
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(self.text[start..self.pos - 1].to_owned());
                }
                b'\\' => break,
                0..=0x1F => return Err(self.error()),
                _ => self.pos += 1,
            }
        }

        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            let run = self.pos;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            // Runs end at ASCII bytes, so they are whole characters.
            out.push_str(&self.text[run..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                _ => return Err(self.error()),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let unit = self.hex4()?;
                out.push(self.code_point(unit));
                return Ok(());
            }
            _ => return Err(self.error()),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    /// The character of a `\u` escape, pairing a high surrogate with a following
    /// `\u` low surrogate; a lone surrogate is U+FFFD (see the module docs).
    fn code_point(&mut self, unit: u16) -> char {
        if (0xD800..0xDC00).contains(&unit) && self.s[self.pos..].starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            match self.hex4() {
                Ok(low @ 0xDC00..=0xDFFF) => {
                    let c =
                        0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                    return char::from_u32(c).unwrap_or('\u{FFFD}');
                }
                // Not a low surrogate: read it again as an escape of its own.
                _ => self.pos = save,
            }
        }
        char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}')
    }

    fn hex4(&mut self) -> Result<u16, ParseError> {
        let digits = self
            .s
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error())?;
        let mut unit = 0u16;
        for &d in digits {
            let v = (d as char).to_digit(16).ok_or_else(|| self.error())?;
            unit = (unit << 4) | v as u16;
        }
        self.pos += 4;
        Ok(unit)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<Number, ParseError> {
        let start = self.pos;
        let negative = self.eat(b'-');
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return Err(self.error()),
        }
        let int_end = self.pos;
        let mut integral = true;
        if self.eat(b'.') {
            integral = false;
            if !self.skip_required_digits() {
                return Err(self.error());
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integral = false;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !self.skip_required_digits() {
                return Err(self.error());
            }
        }

        // Exact integers where JavaScript's double is exact too.
        let digits = &self.text[int_start..int_end];
        if integral && digits.len() <= 16 && !(negative && digits == "0") {
            if let Ok(u) = digits.parse::<u64>() {
                if u <= MAX_SAFE {
                    return Ok(if negative {
                        Number::from(-(u as i64))
                    } else {
                        Number::from(u)
                    });
                }
            }
        }
        let f = self.text[start..self.pos]
            .parse::<f64>()
            .map_err(|_| ParseError::Syntax { offset: start })?;
        Ok(Number::from(f))
    }

    fn skip_digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn skip_required_digits(&mut self) -> bool {
        let start = self.pos;
        self.skip_digits();
        self.pos > start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Value {
        match parse(s, 64) {
            Ok(v) => v,
            Err(e) => panic!("{s:?}: {e:?}"),
        }
    }

    fn roundtrip(s: &str) -> String {
        ok(s).to_json_string()
    }

    #[test]
    fn accepts_what_json_parse_accepts() {
        assert_eq!(
            roundtrip(" [1, -0, 2.50, 1e2, 1E-7, -1.5e+300, 9007199254740993] "),
            "[1,0,2.5,100,1e-7,-1.5e+300,9007199254740992]"
        );
        assert_eq!(
            roundtrip("[1e400, -1e400, 123456789012345678901234]"),
            "[null,null,1.2345678901234569e+23]"
        );
        assert_eq!(
            roundtrip(r#""\u00e9\/\b\f\n\r\t\"\\\u2028\ud83d\ude00""#),
            "\"é/\\b\\f\\n\\r\\t\\\"\\\\\u{2028}😀\""
        );
        assert_eq!(
            roundtrip(r#"{"b":1,"a":2,"b":3,"1":0,"0":{}}"#),
            r#"{"0":{},"1":0,"b":3,"a":2}"#
        );
        assert_eq!(roundtrip("\t\r\n null \n"), "null");
        assert_eq!(
            ok("-9007199254740992").as_i64(),
            Some(-9_007_199_254_740_992)
        );
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(ok(r#""\ud800""#).as_str(), Some("\u{FFFD}"));
        assert_eq!(ok(r#""\udc00x""#).as_str(), Some("\u{FFFD}x"));
        assert_eq!(ok(r#""\ud800\u0041""#).as_str(), Some("\u{FFFD}A"));
        assert_eq!(
            ok(r#""\ud800\ud800\udc00""#).as_str(),
            Some("\u{FFFD}\u{10000}")
        );
        assert!(parse(r#""\ud800\u00zz""#, 8).is_err());
    }

    #[test]
    fn refuses_what_json_parse_refuses() {
        for bad in [
            "",
            " ",
            "01",
            "1.",
            ".5",
            "+1",
            "-",
            "1e",
            "[1,]",
            "{\"a\":1,}",
            "[",
            "{",
            "]",
            "nul",
            "True",
            "'a'",
            "\"\t\"",
            "\"\\x\"",
            "\"\\u12\"",
            "NaN",
            "Infinity",
            "[1 2]",
            "{\"a\" 1}",
            "{a:1}",
            "1 2",
            "\u{a0}1",
            "\"abc",
        ] {
            assert!(parse(bad, 8).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn depth_is_bounded_without_recursion() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&deep(8), 8).is_ok());
        assert_eq!(parse(&deep(9), 8), Err(ParseError::TooDeep));
        assert_eq!(
            parse(&"[".repeat(1_000_000), 2_000_000).map(|_| ()),
            Err(ParseError::Syntax { offset: 1_000_000 })
        );
        assert_eq!(parse(r#"{"a":{"b":[1]}}"#, 3).map(|_| ()), Ok(()));
        assert_eq!(parse(r#"{"a":{"b":[{}]}}"#, 3), Err(ParseError::TooDeep));
    }
}
