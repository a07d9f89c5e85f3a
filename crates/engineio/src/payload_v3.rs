//! Polling payloads of protocol v3 (Engine.IO 3, socket.io 2.x clients).
//!
//! Three body forms exist:
//! - the string form, `<length>:<packet>` repeated, where the length counts
//!   UTF-16 code units ("the length of the packet in characters") and binary
//!   packets are `b4<base64>`;
//! - the XHR2 binary form, used when the client supports binary and a packet is
//!   binary: `<0 for string | 1 for binary><length digits as bytes>0xFF<packet>`;
//! - JSONP (`j=N`): the string form wrapped as `___eio[N]("...");`, with POSTs
//!   sent as the form field `d`.

use bytes::Bytes;

use crate::config::ProtocolVersion;
use crate::packet::{Packet, PacketError, decode_typed_binary};
use crate::payload::Decoded;

/// The reference stops reading length digits after this many (the length of
/// `Number.MAX_VALUE` written out).
const MAX_LENGTH_DIGITS: usize = 310;

/// Encodes packets in the v3 string form. An empty list is `0:`.
pub fn encode_string(packets: &[Packet]) -> String {
    if packets.is_empty() {
        return "0:".to_owned();
    }
    let mut out = String::new();
    for packet in packets {
        let text = packet.to_text(ProtocolVersion::V3);
        let units: usize = text.encode_utf16().count();
        out.push_str(&units.to_string());
        out.push(':');
        out.push_str(&text);
    }
    out
}

/// Encodes packets in the XHR2 binary form. Text packets count their UTF-8
/// bytes; binary packets count their type byte and data.
pub fn encode_binary(packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for packet in packets {
        let (flag, body) = if let Packet::Message(crate::Message::Binary(data)) = packet {
            let mut body = Vec::with_capacity(data.len() + 1);
            body.push(4);
            body.extend_from_slice(data);
            (1u8, body)
        } else {
            (0u8, packet.to_text(ProtocolVersion::V3).into_bytes())
        };
        out.push(flag);
        out.extend(body.len().to_string().bytes().map(|d| d - b'0'));
        out.push(0xff);
        out.extend_from_slice(&body);
    }
    out
}

/// Wraps an encoded string payload as a JSONP answer: `___eio[N]("...");`.
/// `index` keeps only the digits of the `j` query parameter, as the reference does.
pub fn encode_jsonp(index: &str, payload: &str) -> String {
    let digits: String = index.chars().filter(char::is_ascii_digit).collect();
    // A JSON string is valid JavaScript except for U+2028 and U+2029.
    let js = serde_json::to_string(payload)
        .unwrap_or_default()
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    format!("___eio[{digits}]({js});")
}

/// Decodes the string form.
pub fn decode_string(text: &str) -> Decoded {
    let mut decoded = Decoded::default();
    if text.is_empty() {
        decoded.error = Some(PacketError::Empty);
        return decoded;
    }
    let mut rest = text;
    while !rest.is_empty() {
        let Some((len, after)) = rest.split_once(':') else {
            decoded.error = Some(PacketError::Empty);
            return decoded;
        };
        let Some(units) = parse_length(len) else {
            decoded.error = Some(PacketError::Empty);
            return decoded;
        };
        let Some(end) = utf16_prefix_end(after, units) else {
            decoded.error = Some(PacketError::Empty);
            return decoded;
        };
        let (msg, tail) = after.split_at(end);
        // The reference skips zero-length entries.
        if !msg.is_empty() {
            match Packet::decode_text(msg, ProtocolVersion::V3) {
                Ok(p) => decoded.packets.push(p),
                Err(e) => {
                    decoded.error = Some(e);
                    return decoded;
                }
            }
        }
        rest = tail;
    }
    decoded
}

/// Decodes the XHR2 binary form.
pub fn decode_binary(body: &[u8]) -> Decoded {
    let mut decoded = Decoded::default();
    let mut rest = body;
    while let Some((&flag, tail)) = rest.split_first() {
        let Some(ff) = tail
            .iter()
            .take(MAX_LENGTH_DIGITS + 1)
            .position(|&b| b == 0xff)
        else {
            decoded.error = Some(PacketError::Empty);
            return decoded;
        };
        let mut len: usize = 0;
        for &digit in &tail[..ff] {
            let next = (digit <= 9)
                .then(|| {
                    len.checked_mul(10)
                        .and_then(|l| l.checked_add(usize::from(digit)))
                })
                .flatten();
            let Some(next) = next else {
                decoded.error = Some(PacketError::Empty);
                return decoded;
            };
            len = next;
        }
        let data = &tail[ff + 1..];
        if ff == 0 || len > data.len() {
            decoded.error = Some(PacketError::Empty);
            return decoded;
        }
        let (msg, tail) = data.split_at(len);
        let packet = if flag == 0 {
            std::str::from_utf8(msg)
                .map_err(|_| PacketError::InvalidUtf8)
                .and_then(|t| Packet::decode_text(t, ProtocolVersion::V3))
        } else {
            decode_typed_binary(Bytes::copy_from_slice(msg))
        };
        match packet {
            Ok(p) => decoded.packets.push(p),
            Err(e) => {
                decoded.error = Some(e);
                return decoded;
            }
        }
        rest = tail;
    }
    decoded
}

/// Extracts the payload from a JSONP POST body (form field `d`) and undoes the
/// client's newline escaping: `\n` (backslash, n) is a newline, `\\n` stays `\n`.
pub fn decode_jsonp_form(body: &[u8]) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    let d = crate::handshake::parse_query(body)
        .into_iter()
        .find(|(k, _)| k == "d")
        .map(|(_, v)| v)?;
    let mut out = String::with_capacity(d.len());
    let mut chars = d.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('\\') => {
                    chars.next();
                    if chars.peek() == Some(&'n') {
                        chars.next();
                        out.push_str("\\n");
                    } else {
                        out.push_str("\\\\");
                    }
                }
                _ => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// A decimal length with no sign and no spaces.
fn parse_length(s: &str) -> Option<usize> {
    if s.is_empty() || s.len() > MAX_LENGTH_DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The byte offset after the first `units` UTF-16 code units of `s`, or `None`
/// when `s` is shorter or the count splits a surrogate pair.
fn utf16_prefix_end(s: &str, units: usize) -> Option<usize> {
    let mut count = 0;
    for (offset, c) in s.char_indices() {
        if count == units {
            return Some(offset);
        }
        count += c.len_utf16();
        if count > units {
            return None;
        }
    }
    (count == units).then_some(s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    #[test]
    fn string_form_counts_utf16_units() {
        let packets = [
            Packet::Message(Message::text("€😀")),
            Packet::Pong(Bytes::new()),
        ];
        // "4€😀" is 1 + 1 + 2 UTF-16 units.
        assert_eq!(encode_string(&packets), "4:4€😀1:3");
        assert_eq!(decode_string("4:4€😀1:3").packets, packets.to_vec());
        assert_eq!(encode_string(&[]), "0:");
    }

    #[test]
    fn string_form_binary_is_b4() {
        let p = [Packet::Message(Message::binary(vec![1u8, 2, 3]))];
        assert_eq!(encode_string(&p), "6:b4AQID");
        assert_eq!(decode_string("6:b4AQID").packets, p.to_vec());
    }

    #[test]
    fn string_form_rejects_bad_lengths() {
        for bad in ["", "x:4a", "5:4a", "2:4", "-1:4a", "2:4😀", "2:4a1"] {
            assert!(decode_string(bad).error.is_some(), "{bad:?}");
        }
        let d = decode_string("2:4a0:2:4b");
        assert_eq!(d.error, None);
        assert_eq!(d.packets.len(), 2);
    }

    #[test]
    fn xhr2_binary_form_exact_bytes() {
        let packets = [
            Packet::Message(Message::text("é")),
            Packet::Message(Message::binary(vec![0xffu8; 10])),
        ];
        let mut want = vec![0u8, 3, 0xff, b'4', 0xc3, 0xa9, 1, 1, 1, 0xff, 4];
        want.extend_from_slice(&[0xff; 10]);
        assert_eq!(encode_binary(&packets), want);
        let d = decode_binary(&want);
        assert_eq!(d.error, None);
        assert_eq!(d.packets, packets.to_vec());
    }

    #[test]
    fn xhr2_binary_form_rejects_bad_input() {
        for bad in [
            &[0u8][..],
            &[0, 5, 0xff, b'4'],
            &[0, 12, 0xff, b'4'],
            &[1, 0xff, 4],
            &[0, 1],
        ] {
            assert!(decode_binary(bad).error.is_some(), "{bad:?}");
        }
        let mut long = vec![0u8];
        long.extend(std::iter::repeat_n(9u8, 400));
        assert!(decode_binary(&long).error.is_some());
    }

    #[test]
    fn jsonp_answer_is_escaped_javascript() {
        assert_eq!(
            encode_jsonp("1x2", "5:4a\"\\\n\u{2028}"),
            "___eio[12](\"5:4a\\\"\\\\\\n\\u2028\");"
        );
    }

    #[test]
    fn jsonp_form_unescapes_newlines() {
        assert_eq!(
            decode_jsonp_form(b"d=3%3A4a%5Cn").as_deref(),
            Some("3:4a\n")
        );
        assert_eq!(
            decode_jsonp_form(b"d=4%3A4a%5C%5Cn").as_deref(),
            Some("4:4a\\n")
        );
        assert_eq!(decode_jsonp_form(b"x=1"), None);
    }
}
