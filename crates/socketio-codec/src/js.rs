//! The few JavaScript semantics the reference parser leans on.
//!
//! socket.io-parser reads the packet header with `Number(...)` and loose `==`, and
//! orders object keys as every JavaScript object does. This module owns those rules:
//! which characters JavaScript trims as white space, `Number(string)` (ECMA-262
//! StringToNumber), and what an array index key is. It knows nothing of packets.

/// Whether `c` is JavaScript `WhiteSpace` or `LineTerminator`: the characters
/// `Number(string)` trims, and the ones for which `Number(c) == c` holds.
pub(crate) fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// JavaScript's `Number(s)` for a string (ECMA-262 StringToNumber).
///
/// White space around the literal is ignored; an empty or blank string is `0`;
/// `0x`, `0o` and `0b` prefixes, `Infinity` and signed decimals with an optional
/// exponent are numbers; anything else is `NaN`.
pub(crate) fn string_to_number(s: &str) -> f64 {
    let s = s.trim_matches(is_js_space);
    if s.is_empty() {
        return 0.0;
    }

    // "StrNumericLiteral ::: NonDecimalIntegerLiteral": no sign allowed.
    let bytes = s.as_bytes();
    if bytes.len() > 2 && bytes[0] == b'0' {
        let radix = match bytes[1] {
            b'x' | b'X' => Some(16),
            b'o' | b'O' => Some(8),
            b'b' | b'B' => Some(2),
            _ => None,
        };
        if let Some(radix) = radix {
            return radix_integer(&s[2..], radix);
        }
    }

    let (sign, unsigned) = match bytes[0] {
        b'+' => (1.0, &s[1..]),
        b'-' => (-1.0, &s[1..]),
        _ => (1.0, s),
    };
    if unsigned == "Infinity" {
        return sign * f64::INFINITY;
    }
    if !is_decimal_literal(unsigned.as_bytes()) {
        return f64::NAN;
    }
    // The grammar was checked above, so Rust's parser (correctly rounded, as
    // JavaScript's) reads the same number.
    unsigned.parse::<f64>().map_or(f64::NAN, |x| sign * x)
}

/// Digits in `radix`, as a double (rounded once they pass 2^53, like JavaScript).
fn radix_integer(digits: &str, radix: u32) -> f64 {
    let mut value = 0.0f64;
    for c in digits.chars() {
        match c.to_digit(radix) {
            Some(d) => value = value * f64::from(radix) + f64::from(d),
            None => return f64::NAN,
        }
    }
    value
}

/// StrUnsignedDecimalLiteral without `Infinity`: `1`, `1.`, `.5`, `1.5e-3`.
fn is_decimal_literal(b: &[u8]) -> bool {
    let mut i = 0;
    let int_digits = count_digits(&b[i..]);
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = count_digits(&b[i..]);
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = count_digits(&b[i..]);
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == b.len()
}

fn count_digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// Whether `key` is an array index (ECMA-262: a canonical numeric string of an
/// integer below 2^32 - 1). Objects list such keys first, in ascending order.
pub(crate) fn array_index(key: &str) -> Option<u32> {
    let b = key.as_bytes();
    if b.is_empty() || b.len() > 10 || (b[0] == b'0' && b.len() > 1) {
        return None;
    }
    if !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    key.parse::<u64>()
        .ok()
        .filter(|n| *n < u64::from(u32::MAX))
        .map(|n| n as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_number_follows_javascript() {
        assert_eq!(string_to_number(""), 0.0);
        assert_eq!(string_to_number(" \u{A0}\u{FEFF}"), 0.0);
        assert_eq!(string_to_number(" 12 "), 12.0);
        assert_eq!(string_to_number("+3"), 3.0);
        assert_eq!(string_to_number("1e1"), 10.0);
        assert_eq!(string_to_number(".5"), 0.5);
        assert_eq!(string_to_number("5."), 5.0);
        assert_eq!(string_to_number("0x1F"), 31.0);
        assert_eq!(string_to_number("0b11"), 3.0);
        assert_eq!(string_to_number("0o17"), 15.0);
        assert_eq!(string_to_number("-Infinity"), f64::NEG_INFINITY);
        for nan in [
            "1 2", "-0x1", "0x", ".", "e5", "1e", "inf", "NaN", "infinity", "1_0", "١",
        ] {
            assert!(string_to_number(nan).is_nan(), "{nan:?}");
        }
    }

    #[test]
    fn array_indices() {
        assert_eq!(array_index("0"), Some(0));
        assert_eq!(array_index("4294967294"), Some(4_294_967_294));
        assert_eq!(array_index("4294967295"), None);
        assert_eq!(array_index("01"), None);
        assert_eq!(array_index("-1"), None);
        assert_eq!(array_index("1.0"), None);
        assert_eq!(array_index(""), None);
    }

    #[test]
    fn white_space_set() {
        assert!(is_js_space('\u{2028}'));
        assert!(is_js_space('\u{FEFF}'));
        assert!(!is_js_space('\u{85}'));
        assert!(!is_js_space('\u{200B}'));
    }
}
