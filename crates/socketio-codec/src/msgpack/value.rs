//! MessagePack for [`Value`], byte for byte as npm notepack.io 2.x writes and
//! reads it (the library under socket.io-msgpack-parser).
//!
//! This module owns the value format. notepack's choices, mirrored here:
//! - a number that is not a whole finite number is always a float 64 (`0xcb`);
//!   whole numbers take the smallest integer form, `-0` is `0`;
//! - strings use fixstr, str 8, str 16 or str 32 by UTF-8 length; binary uses bin 8,
//!   16 or 32; object keys go out in JavaScript order (array indices first);
//! - reading: invalid UTF-8 in a string becomes U+FFFD (as Node's
//!   `Buffer.toString`); ext type 0 is an `ArrayBuffer` (binary here); other ext
//!   types are `[type, <bytes>]`; a Date (fixext 8 type 0) is its millisecond
//!   count; `undefined` (fixext 1 type 0) is `null` inside an array and leaves
//!   its key out of an object, as `JSON.stringify` would;
//! - object keys that are not strings become strings as JavaScript makes them,
//!   except binary, array and object keys, which are refused.
//!
//! The packet shape on top of this lives in the parent module.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::DecodeError;
use crate::json_parse::normalize_object;
use crate::json_write::key_order;
use crate::number::{MAX_SAFE, Number, Repr};
use crate::value::Value;

/// Writes `value` as notepack.io does.
pub(crate) fn write(value: &Value, out: &mut BytesMut) {
    match value {
        Value::Null => out.put_u8(0xc0),
        Value::Bool(b) => out.put_u8(if *b { 0xc3 } else { 0xc2 }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_str(s, out),
        Value::Binary(b) => {
            write_len(out, b.len(), [0, 0xc4, 0xc5, 0xc6]);
            out.put_slice(b);
        }
        Value::Array(items) => write_list(items, out),
        Value::Object(fields) => {
            write_len(out, fields.len(), [0x80, 0, 0xde, 0xdf]);
            let mut field = |(k, v): &(String, Value)| {
                write_str(k, out);
                write(v, out);
            };
            match key_order(fields) {
                None => fields.iter().for_each(field),
                Some(order) => order.into_iter().for_each(|i| field(&fields[i])),
            }
        }
    }
}

/// Writes `items` as a MessagePack array.
pub(crate) fn write_list(items: &[Value], out: &mut BytesMut) {
    write_len(out, items.len(), [0x90, 0, 0xdc, 0xdd]);
    items.iter().for_each(|v| write(v, out));
}

pub(crate) fn write_str(s: &str, out: &mut BytesMut) {
    if s.len() < 0x20 {
        out.put_u8(0xa0 | s.len() as u8);
    } else {
        write_len(out, s.len(), [0, 0xd9, 0xda, 0xdb]);
    }
    out.put_slice(s.as_bytes());
}

/// A length header: `tags` are the fix form (its limit 16 for arrays and maps,
/// unused when 0), then the 8, 16 and 32 bit forms (the 8 bit one unused when 0).
fn write_len(out: &mut BytesMut, len: usize, tags: [u8; 4]) {
    let [fix, b8, b16, b32] = tags;
    if fix != 0 && len < 0x10 {
        out.put_u8(fix | len as u8);
    } else if b8 != 0 && len < 0x100 {
        out.put_slice(&[b8, len as u8]);
    } else if len < 0x10000 {
        out.put_u8(b16);
        out.put_u16(len as u16);
    } else {
        // notepack throws past 2^32 - 1; a frame that large is refused long before.
        out.put_u8(b32);
        out.put_u32(len as u32);
    }
}

fn write_number(n: &Number, out: &mut BytesMut) {
    match n.repr() {
        Repr::Pos(u) => write_whole(u as f64, Some(u as i128), out),
        Repr::Neg(i) => write_whole(i as f64, Some(i128::from(i)), out),
        Repr::Float(f) if f.is_finite() && f.floor() == f => write_whole(f, None, out),
        Repr::Float(f) => {
            out.put_u8(0xcb);
            out.put_f64(f);
        }
    }
}

/// notepack's integer forms. `exact` is the integer when Rust holds it exactly
/// (past 2^53 a double would round it).
fn write_whole(f: f64, exact: Option<i128>, out: &mut BytesMut) {
    let i = exact.unwrap_or(f as i128);
    if f >= 0.0 {
        match i {
            0..0x80 => out.put_u8(i as u8),
            0x80..0x100 => out.put_slice(&[0xcc, i as u8]),
            0x100..0x10000 => {
                out.put_u8(0xcd);
                out.put_u16(i as u16);
            }
            0x10000..0x1_0000_0000 => {
                out.put_u8(0xce);
                out.put_u32(i as u32);
            }
            _ => {
                out.put_u8(0xcf);
                write_hi_lo(f, exact, out);
            }
        }
    } else {
        match i {
            -0x20..0 => out.put_u8(i as u8),
            -0x80..-0x20 => out.put_slice(&[0xd0, i as u8]),
            -0x8000..-0x80 => {
                out.put_u8(0xd1);
                out.put_u16(i as u16);
            }
            -0x8000_0000..-0x8000 => {
                out.put_u8(0xd2);
                out.put_u32(i as u32);
            }
            _ => {
                out.put_u8(0xd3);
                write_hi_lo(f, exact, out);
            }
        }
    }
}

/// The two 32-bit halves notepack writes: `floor(x / 2^32)` and `x >>> 0`, each
/// cut to 32 bits as JavaScript's byte stores do (so doubles past 2^64 wrap).
fn write_hi_lo(f: f64, exact: Option<i128>, out: &mut BytesMut) {
    const TWO_32: f64 = 4_294_967_296.0;
    match exact {
        Some(i) => out.put_u64(i as u64),
        None => {
            let hi = (f / TWO_32).floor().rem_euclid(TWO_32) as u32;
            let lo = f.rem_euclid(TWO_32) as u32;
            out.put_u32(hi);
            out.put_u32(lo);
        }
    }
}

/// What a read gives: a value, or JavaScript's `undefined`.
pub(crate) enum Item {
    Value(Value),
    Undefined,
}

/// Reads MessagePack values from one frame, sharing its bytes for binary.
pub(crate) struct Reader {
    data: Bytes,
    pos: usize,
    max_depth: usize,
}

impl Reader {
    pub(crate) fn new(data: Bytes, max_depth: usize) -> Reader {
        Reader {
            data,
            pos: 0,
            max_depth,
        }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.data.len()
    }

    pub(crate) fn error(&self) -> DecodeError {
        DecodeError::InvalidMsgpack { offset: self.pos }
    }

    /// The range of the next `n` bytes, consumed.
    fn advance(&mut self, n: usize) -> Result<std::ops::Range<usize>, DecodeError> {
        let start = self.pos;
        let end = start
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or_else(|| self.error())?;
        self.pos = end;
        Ok(start..end)
    }

    /// The next `n` bytes as shared `Bytes` (for binary values only: sharing costs
    /// a reference count).
    fn take(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        let range = self.advance(n)?;
        Ok(self.data.slice(range))
    }

    fn uint(&mut self, n: usize) -> Result<u64, DecodeError> {
        let range = self.advance(n)?;
        Ok(self.data[range]
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A signed integer of `n` bytes.
    fn int(&mut self, n: usize) -> Result<i64, DecodeError> {
        let u = self.uint(n)?;
        let shift = 64 - 8 * n as u32;
        Ok(((u << shift) as i64) >> shift)
    }

    /// Reads one whole value. Iterative: nesting is bounded by `max_depth`, never
    /// by the thread's stack.
    pub(crate) fn read(&mut self) -> Result<Item, DecodeError> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let at = self.pos;
            let mut item = match self.token()? {
                Token::Item(item) => item,
                Token::Array(_) | Token::Map(_) if stack.len() >= self.max_depth => {
                    return Err(DecodeError::NestingTooDeep {
                        max: self.max_depth,
                    });
                }
                Token::Array(0) => Item::Value(Value::Array(Vec::new())),
                Token::Map(0) => Item::Value(Value::Object(Vec::new())),
                // Never trust a declared length for an allocation: each item takes a byte.
                Token::Array(len) => {
                    stack.push(Frame::Array {
                        items: Vec::with_capacity(self.capacity(len)),
                        left: len,
                    });
                    continue;
                }
                Token::Map(len) => {
                    let fields = Vec::with_capacity(self.capacity(len));
                    stack.push(Frame::Map {
                        fields,
                        left: len,
                        key: None,
                    });
                    continue;
                }
            };

            // Hand the item to its container; a full container is itself an item.
            loop {
                match stack.last_mut() {
                    None => return Ok(item),
                    Some(Frame::Array { items, left }) => {
                        // `undefined` in an array is `null` to JSON.
                        items.push(match item {
                            Item::Value(v) => v,
                            Item::Undefined => Value::Null,
                        });
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                    }
                    Some(Frame::Map { fields, left, key }) => match key.take() {
                        None => {
                            *key = Some(
                                map_key(item).ok_or(DecodeError::InvalidMsgpack { offset: at })?,
                            );
                            break;
                        }
                        Some(k) => {
                            // A key holding `undefined` is left out, as JSON leaves it.
                            if let Item::Value(v) = item {
                                fields.push((k, v));
                            }
                            *left -= 1;
                            if *left > 0 {
                                break;
                            }
                        }
                    },
                }
                item = Item::Value(match stack.pop() {
                    Some(Frame::Array { items, .. }) => Value::Array(items),
                    Some(Frame::Map { fields, .. }) => Value::Object(normalize_object(fields)),
                    None => return Err(self.error()),
                });
            }
        }
    }

    /// One scalar, or the header of a container.
    fn token(&mut self) -> Result<Token, DecodeError> {
        let prefix = self.uint(1)? as u8;
        let value = match prefix {
            0x00..=0x7f => Value::from(u64::from(prefix)),
            0x80..=0x8f => return Ok(Token::Map(usize::from(prefix & 0x0f))),
            0x90..=0x9f => return Ok(Token::Array(usize::from(prefix & 0x0f))),
            0xa0..=0xbf => self.str(usize::from(prefix & 0x1f))?,
            0xe0..=0xff => Value::from(i64::from(prefix as i8)),
            0xc0 => Value::Null,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4..=0xc6 => {
                let len = self.uint(1 << (prefix - 0xc4))? as usize;
                Value::Binary(self.take(len)?)
            }
            0xc7..=0xc9 => {
                let len = self.uint(1 << (prefix - 0xc7))? as usize;
                let ty = self.int(1)?;
                self.ext(ty, len)?
            }
            0xca => Value::from(f64::from(f32::from_bits(self.uint(4)? as u32))),
            0xcb => Value::from(f64::from_bits(self.uint(8)?)),
            0xcc..=0xcf => {
                let u = self.uint(1 << (prefix - 0xcc))?;
                // `hi * 2^32 + lo`: a double past 2^53, as JavaScript reads it.
                if u > MAX_SAFE {
                    Value::from(u as f64)
                } else {
                    Value::from(u)
                }
            }
            0xd0..=0xd3 => {
                let i = self.int(1 << (prefix - 0xd0))?;
                if i.unsigned_abs() > MAX_SAFE {
                    Value::from(i as f64)
                } else {
                    Value::from(i)
                }
            }
            0xd4 => {
                let ty = self.int(1)?;
                if ty == 0 {
                    self.advance(1)?;
                    return Ok(Token::Item(Item::Undefined));
                }
                ext_pair(ty, self.take(1)?)
            }
            0xd5 | 0xd6 | 0xd8 => {
                let ty = self.int(1)?;
                let len = match prefix {
                    0xd5 => 2,
                    0xd6 => 4,
                    _ => 16,
                };
                ext_pair(ty, self.take(len)?)
            }
            0xd7 => {
                let ty = self.int(1)?;
                if ty == 0 {
                    // A Date: milliseconds as `hi * 2^32 + lo`, hi signed.
                    let hi = self.int(4)? as f64;
                    let lo = self.uint(4)? as f64;
                    Value::from(hi * 4_294_967_296.0 + lo)
                } else {
                    ext_pair(ty, self.take(8)?)
                }
            }
            0xd9..=0xdb => {
                let len = self.uint(1 << (prefix - 0xd9))? as usize;
                self.str(len)?
            }
            0xdc | 0xdd => return Ok(Token::Array(self.uint(2 << (prefix - 0xdc))? as usize)),
            0xde | 0xdf => return Ok(Token::Map(self.uint(2 << (prefix - 0xde))? as usize)),
            // 0xc1 is never used: "Could not parse".
            _ => {
                return Err(DecodeError::InvalidMsgpack {
                    offset: self.pos - 1,
                });
            }
        };
        Ok(Token::Item(Item::Value(value)))
    }

    fn capacity(&self, len: usize) -> usize {
        len.min(self.data.len() - self.pos)
    }

    fn str(&mut self, len: usize) -> Result<Value, DecodeError> {
        let range = self.advance(len)?;
        Ok(Value::String(
            String::from_utf8_lossy(&self.data[range]).into_owned(),
        ))
    }

    fn ext(&mut self, ty: i64, len: usize) -> Result<Value, DecodeError> {
        let data = self.take(len)?;
        Ok(if ty == 0 {
            Value::Binary(data)
        } else {
            ext_pair(ty, data)
        })
    }
}

/// `value[key] = ...` makes the key a string; binary, array and object keys are
/// refused (JavaScript would stringify them too, to little purpose).
fn map_key(item: Item) -> Option<String> {
    match item {
        Item::Value(Value::String(s)) => Some(s),
        Item::Value(Value::Number(n)) => Some(n.to_string()),
        Item::Value(Value::Bool(b)) => Some(b.to_string()),
        Item::Value(Value::Null) => Some("null".to_owned()),
        Item::Undefined => Some("undefined".to_owned()),
        Item::Value(_) => None,
    }
}

/// What the next bytes hold.
enum Token {
    Item(Item),
    Array(usize),
    Map(usize),
}

/// A container being filled.
enum Frame {
    Array {
        items: Vec<Value>,
        left: usize,
    },
    /// `key` is set while its value is being read.
    Map {
        fields: Vec<(String, Value)>,
        left: usize,
        key: Option<String>,
    },
}

/// An ext value notepack does not know: `[type, <bytes>]`.
fn ext_pair(ty: i64, data: Bytes) -> Value {
    Value::Array(vec![Value::from(ty), Value::Binary(data)])
}
