//! Reading the packet header: `<type>[<attachments>-][<namespace>,][<ack id>]`.
//!
//! This module owns the header rules exactly as socket.io-parser 4.2.7's
//! `decodeString` applies them, quirks included, because a server that is stricter
//! than the reference closes connections the reference keeps:
//! - the type is `Number(str.charAt(0))`, so an empty string or a leading white
//!   space character reads as type 0 (CONNECT);
//! - the attachment count is anything `Number()` reads as a whole number
//!   (`" 2"`, `"0x2"`, `"2e0"`);
//! - the namespace runs from a `/` right after the type (or the `-`) to the first
//!   `,`, or to the end of the text, which then holds no id and no payload;
//! - the ack id is the run of digits and white space that follows (`Number(c) == c`
//!   holds for both), read with `Number()`.
//!
//! It does not read the JSON payload.

use crate::error::DecodeError;
use crate::js::{is_js_space, string_to_number};

/// The header of a text packet, borrowing from the text.
#[derive(Debug, PartialEq)]
pub(crate) struct Header<'a> {
    /// The type, 0 to 6.
    pub(crate) kind: u8,
    /// The declared attachments (0 unless the type is 5 or 6).
    pub(crate) attachments: usize,
    /// The namespace (`/` when the text names none).
    pub(crate) nsp: &'a str,
    /// The ack id.
    pub(crate) id: Option<u64>,
    /// The JSON payload text, if any character is left.
    pub(crate) payload: Option<&'a str>,
}

/// 2^64, the first ack id a `u64` cannot hold.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// Reads the header of `text`, allowing at most `max_attachments`.
pub(crate) fn parse(text: &str, max_attachments: usize) -> Result<Header<'_>, DecodeError> {
    // "look up type": `Number(str.charAt(0))`.
    let mut chars = text.chars();
    let kind = match chars.next() {
        None => 0,
        Some(c @ '0'..='6') => c as u8 - b'0',
        Some(c) if is_js_space(c) => 0,
        Some(c) => return Err(DecodeError::UnknownPacketType(c.to_string())),
    };
    let mut rest = chars.as_str();

    // "look up attachments if type binary"
    let mut attachments = 0;
    if kind == 5 || kind == 6 {
        let Some((count, after)) = rest.split_once('-') else {
            return Err(DecodeError::InvalidAttachmentCount(rest.to_owned()));
        };
        attachments = attachment_count(count, max_attachments)?;
        rest = after;
    }

    // "look up namespace (if any)": from `/` up to the first `,` or the end.
    let mut nsp = "/";
    if rest.starts_with('/') {
        match rest.split_once(',') {
            Some((name, after)) => {
                nsp = name;
                rest = after;
            }
            None => {
                return Ok(Header {
                    kind,
                    attachments,
                    nsp: rest,
                    id: None,
                    payload: None,
                });
            }
        }
    }

    // "look up id": the run of characters `c` for which `Number(c) == c`.
    let run = rest
        .find(|c: char| !(c.is_ascii_digit() || is_js_space(c)))
        .unwrap_or(rest.len());
    let id = if run > 0 {
        Some(ack_id(&rest[..run])?)
    } else {
        None
    };
    rest = &rest[run..];

    let payload = (!rest.is_empty()).then_some(rest);
    Ok(Header {
        kind,
        attachments,
        nsp,
        id,
        payload,
    })
}

/// "if (!isInteger(n) || n < 1) Illegal attachments; else if (n > maxAttachments)
/// too many attachments"
fn attachment_count(count: &str, max: usize) -> Result<usize, DecodeError> {
    let n = string_to_number(count);
    if n.is_nan() || !n.is_finite() || n.fract() != 0.0 {
        return Err(DecodeError::InvalidAttachmentCount(count.to_owned()));
    }
    if n < 1.0 {
        return Err(DecodeError::ZeroAttachments);
    }
    if n > max as f64 {
        return Err(DecodeError::TooManyAttachments {
            count: count.to_owned(),
            max,
        });
    }
    Ok(n as usize)
}

/// `Number(run)` for a run of digits and white space, kept when it is a whole
/// number a `u64` holds. Digits split by white space read as `NaN`, which the
/// reference keeps as the id and this crate refuses.
fn ack_id(run: &str) -> Result<u64, DecodeError> {
    let n = string_to_number(run);
    if n.is_nan() || n >= TWO_POW_64 {
        return Err(DecodeError::InvalidAckId(run.to_owned()));
    }
    // Past 2^53 this is the double JavaScript rounds the digits to, as it would
    // write the id back in its ACK.
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> Header<'_> {
        match parse(text, 10) {
            Ok(h) => h,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn head(
        kind: u8,
        attachments: usize,
        nsp: &'static str,
        id: Option<u64>,
        payload: Option<&'static str>,
    ) -> Header<'static> {
        Header {
            kind,
            attachments,
            nsp,
            id,
            payload,
        }
    }

    #[test]
    fn plain_headers() {
        assert_eq!(h("0"), head(0, 0, "/", None, None));
        assert_eq!(h("2[\"a\"]"), head(2, 0, "/", None, Some("[\"a\"]")));
        assert_eq!(
            h("2/chat,12[\"a\"]"),
            head(2, 0, "/chat", Some(12), Some("[\"a\"]"))
        );
        assert_eq!(h("3/chat,"), head(3, 0, "/chat", None, None));
        assert_eq!(h("52-/a,7[]"), head(5, 2, "/a", Some(7), Some("[]")));
        assert_eq!(
            h("0/admin?x=1,{}"),
            head(0, 0, "/admin?x=1", None, Some("{}"))
        );
    }

    #[test]
    fn reference_quirks() {
        // Empty text and a leading space are CONNECT to `/`.
        assert_eq!(h(""), head(0, 0, "/", None, None));
        assert_eq!(h(" /a,{}"), head(0, 0, "/a", None, Some("{}")));
        // A namespace without a comma swallows the rest.
        assert_eq!(h("2/a[\"x\"]"), head(2, 0, "/a[\"x\"]", None, None));
        // White space in the id run is trimmed; alone it is 0.
        assert_eq!(h("2 [\"x\"]"), head(2, 0, "/", Some(0), Some("[\"x\"]")));
        assert_eq!(h("2 7\u{a0}[1]"), head(2, 0, "/", Some(7), Some("[1]")));
        assert_eq!(h("5 0x2-[]"), head(5, 2, "/", None, Some("[]")));
        assert_eq!(h("51e0-[]").attachments, 1);
        assert_eq!(h("29007199254740993[]").id, Some(9_007_199_254_740_992));
        assert_eq!(
            h("218446744073709549568[]").id,
            Some(18_446_744_073_709_549_568)
        );
    }

    #[test]
    fn refusals() {
        let err = |t: &str| parse(t, 10).err();
        assert_eq!(err("7"), Some(DecodeError::UnknownPacketType("7".into())));
        assert_eq!(err("x"), Some(DecodeError::UnknownPacketType("x".into())));
        assert_eq!(
            err("51"),
            Some(DecodeError::InvalidAttachmentCount("1".into()))
        );
        assert_eq!(
            err("5a-"),
            Some(DecodeError::InvalidAttachmentCount("a".into()))
        );
        assert_eq!(
            err("51.5-"),
            Some(DecodeError::InvalidAttachmentCount("1.5".into()))
        );
        assert_eq!(err("5-"), Some(DecodeError::ZeroAttachments));
        assert_eq!(err("60-"), Some(DecodeError::ZeroAttachments));
        assert_eq!(
            err("511-"),
            Some(DecodeError::TooManyAttachments {
                count: "11".into(),
                max: 10
            })
        );
        assert_eq!(err("21 2[]"), Some(DecodeError::InvalidAckId("1 2".into())));
        assert_eq!(
            err("218446744073709551615[]"),
            Some(DecodeError::InvalidAckId("18446744073709551615".into()))
        );
    }
}
