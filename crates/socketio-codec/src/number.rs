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
            Repr::Float(x) => f.write_str(&js_float(x)),
        }
    }
}

/// Formats a double following ECMA-262 `Number::toString`: the shortest digits that
/// round-trip, in plain notation when the decimal exponent is in [-6, 21), in
/// exponent notation (`1e+21`, `5e-7`) otherwise.
fn js_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        // "If m is +0 or -0, return "0"."
        return "0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let sign = if x < 0.0 { "-" } else { "" };

    // Rust's `{:e}` gives the shortest round-trip digits as `d.ddde<exp>`.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    // n is the position of the decimal point relative to the digits.
    let n = exp + 1;

    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let esign = if e < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{esign}{}", e.abs())
        } else {
            format!("{first}.{rest}e{esign}{}", e.abs())
        }
    };
    format!("{sign}{body}")
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
