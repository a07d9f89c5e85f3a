//! JSON numbers with JavaScript semantics.
//!
//! This module owns [`Number`]: how a number is stored (an exact integer when it can
//! be, an `f64` otherwise) and how it is written, byte for byte as JavaScript's
//! `Number.prototype.toString` (and so `JSON.stringify`) writes it. It does not parse
//! JSON; see `json::parse` for that.

use std::cmp::Ordering;

use bytes::BytesMut;
use std::fmt;

/// The largest integer a JavaScript number holds exactly (2^53).
pub(crate) const MAX_SAFE: u64 = 1 << 53;

/// A JSON number.
///
/// Integers given from Rust are kept exactly (even beyond 2^53, which a JavaScript
/// peer will round when it parses them). Numbers decoded from the wire follow
/// `JSON.parse`: an integer literal within ±2^53 stays an exact integer, anything
/// else becomes an `f64`, so re-encoding a decoded value gives the bytes
/// JavaScript would give. Equality compares numeric values (`1 == 1.0`).
#[derive(Clone, Copy)]
pub struct Number(Repr);

#[derive(Clone, Copy, Debug)]
pub(crate) enum Repr {
    /// Zero or a positive integer.
    Pos(u64),
    /// A negative integer.
    Neg(i64),
    /// Any other number, JavaScript's double.
    Float(f64),
}

impl Number {
    /// How the number is stored, for encoders that write integers and doubles
    /// differently.
    #[cfg_attr(not(feature = "msgpack"), allow(dead_code))]
    pub(crate) fn repr(&self) -> Repr {
        self.0
    }

    /// The number as an `f64` (integers beyond 2^53 are rounded).
    pub fn as_f64(&self) -> f64 {
        match self.0 {
            Repr::Pos(u) => u as f64,
            Repr::Neg(i) => i as f64,
            Repr::Float(f) => f,
        }
    }

    /// The number as a `u64`, when it is a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            Repr::Pos(u) => Some(u),
            Repr::Neg(_) => None,
            // An integral double within the exact range is an integer in JavaScript.
            Repr::Float(f) if f.fract() == 0.0 && (0.0..=MAX_SAFE as f64).contains(&f) => {
                Some(f as u64)
            }
            Repr::Float(_) => None,
        }
    }

    /// The number as an `i64`, when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            Repr::Pos(u) => i64::try_from(u).ok(),
            Repr::Neg(i) => Some(i),
            Repr::Float(f) if f.fract() == 0.0 && f.abs() <= MAX_SAFE as f64 => Some(f as i64),
            Repr::Float(_) => None,
        }
    }

    /// Whether the number is an integer (`Number.isInteger` in JavaScript).
    pub fn is_integer(&self) -> bool {
        match self.0 {
            Repr::Pos(_) | Repr::Neg(_) => true,
            Repr::Float(f) => f.is_finite() && f.fract() == 0.0,
        }
    }

    /// Whether the number is finite (`JSON.stringify` writes `null` otherwise).
    pub fn is_finite(&self) -> bool {
        match self.0 {
            Repr::Float(f) => f.is_finite(),
            _ => true,
        }
    }

    /// Writes the number as `JSON.stringify` does: non-finite numbers become `null`.
    pub(crate) fn write_json(&self, out: &mut BytesMut) {
        use std::fmt::Write as _;
        if self.is_finite() {
            // Writing into a BytesMut cannot fail.
            let _ = write!(out, "{self}");
        } else {
            out.extend_from_slice(b"null");
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

/// JavaScript's `Number.prototype.toString()` in radix 10.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Pos(u) => write!(f, "{u}"),
            Repr::Neg(i) => write!(f, "{i}"),
            Repr::Float(x) => js_float(x, f),
        }
    }
}

/// Writes a double following ECMA-262 `Number::toString`: the shortest digits that
/// round-trip, in plain notation when the decimal exponent is in [-6, 21), in
/// exponent notation (`1e+21`, `5e-7`) otherwise. Allocation-free: it sits on the
/// encoder's hot path.
fn js_float(x: f64, out: &mut impl fmt::Write) -> fmt::Result {
    use fmt::Write as _;
    if x.is_nan() {
        return out.write_str("NaN");
    }
    if x.is_infinite() {
        return out.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
    }
    // Whole numbers below 2^53 print as their exact digits ("If m is +0 or -0,
    // return "0"" included).
    if x.fract() == 0.0 && x.abs() < MAX_SAFE as f64 {
        return write!(out, "{}", x as i64);
    }
    if x < 0.0 {
        out.write_char('-')?;
    }

    // Rust's `{:e}` gives the shortest round-trip digits as `d.ddde<exp>`.
    let mut sci = StackStr::default();
    write!(sci, "{:e}", x.abs())?;
    let sci = sci.as_str();
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let (first, rest) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exp: i32 = exp.parse().unwrap_or(0);
    let k = (first.len() + rest.len()) as i32;
    // n is the position of the decimal point relative to the digits.
    let n = exp + 1;
    let digit = |i: i32| {
        if i == 0 {
            first
        } else {
            &rest[i as usize - 1..i as usize]
        }
    };
    let digits = |out: &mut dyn fmt::Write, from: i32, to: i32| {
        (from..to).try_for_each(|i| out.write_str(digit(i)))
    };

    if k <= n && n <= 21 {
        digits(out, 0, k)?;
        (0..n - k).try_for_each(|_| out.write_char('0'))
    } else if 0 < n && n <= 21 {
        digits(out, 0, n)?;
        out.write_char('.')?;
        digits(out, n, k)
    } else if -6 < n && n <= 0 {
        out.write_str("0.")?;
        (0..-n).try_for_each(|_| out.write_char('0'))?;
        digits(out, 0, k)
    } else {
        let e = n - 1;
        out.write_str(first)?;
        if !rest.is_empty() {
            write!(out, ".{rest}")?;
        }
        write!(out, "e{}{}", if e < 0 { '-' } else { '+' }, e.abs())
    }
}

/// A fixed buffer for one `{:e}` rendering (at most 17 digits, a point and an
/// exponent).
#[derive(Default)]
struct StackStr {
    buf: [u8; 32],
    len: usize,
}

impl StackStr {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("0")
    }
}

impl fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (Repr::Pos(a), Repr::Pos(b)) => a == b,
            (Repr::Neg(a), Repr::Neg(b)) => a == b,
            (Repr::Pos(_), Repr::Neg(_)) | (Repr::Neg(_), Repr::Pos(_)) => false,
            (a, b) => Number(a).as_f64().partial_cmp(&Number(b).as_f64()) == Some(Ordering::Equal),
        }
    }
}

impl From<u64> for Number {
    fn from(u: u64) -> Self {
        Number(Repr::Pos(u))
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Self {
        if i >= 0 {
            Number(Repr::Pos(i as u64))
        } else {
            Number(Repr::Neg(i))
        }
    }
}

impl From<u32> for Number {
    fn from(u: u32) -> Self {
        Number::from(u64::from(u))
    }
}

impl From<i32> for Number {
    fn from(i: i32) -> Self {
        Number::from(i64::from(i))
    }
}

impl From<usize> for Number {
    fn from(u: usize) -> Self {
        Number::from(u as u64)
    }
}

impl From<f64> for Number {
    fn from(f: f64) -> Self {
        Number(Repr::Float(f))
    }
}

impl From<f32> for Number {
    fn from(f: f32) -> Self {
        Number(Repr::Float(f64::from(f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(x: f64) -> String {
        Number::from(x).to_string()
    }

    #[test]
    fn floats_format_as_javascript() {
        assert_eq!(js(1.0), "1");
        assert_eq!(js(-0.0), "0");
        assert_eq!(js(1e21), "1e+21");
        assert_eq!(js(1e20), "100000000000000000000");
        assert_eq!(js(5e-7), "5e-7");
        assert_eq!(js(0.000001), "0.000001");
        assert_eq!(js(1.5e-7), "1.5e-7");
        assert_eq!(js(123.456), "123.456");
        assert_eq!(js(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(js(-1.25e30), "-1.25e+30");
        assert_eq!(js(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(js(5e-324), "5e-324");
        assert_eq!(js(9007199254740993.0), "9007199254740992");
        assert_eq!(js(f64::NAN), "NaN");
        assert_eq!(js(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn integers_are_exact() {
        assert_eq!(Number::from(u64::MAX).to_string(), "18446744073709551615");
        assert_eq!(Number::from(i64::MIN).to_string(), "-9223372036854775808");
        assert_eq!(Number::from(-3i32).to_string(), "-3");
    }

    #[test]
    fn non_finite_is_null_in_json() {
        let mut out = BytesMut::new();
        Number::from(f64::INFINITY).write_json(&mut out);
        assert_eq!(&out[..], b"null");
    }

    #[test]
    fn equality_is_numeric() {
        assert_eq!(Number::from(1u64), Number::from(1.0));
        assert_ne!(Number::from(1u64), Number::from(-1i64));
        assert_eq!(Number::from(3.0).as_u64(), Some(3));
        assert_eq!(Number::from(3.5).as_u64(), None);
        assert_eq!(Number::from(-2.0).as_i64(), Some(-2));
        assert!(!Number::from(f64::NAN).is_integer());
    }
}
