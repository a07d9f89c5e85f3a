//! What the application learns about the request that opened a session.

use std::net::SocketAddr;
use std::time::SystemTime;

use crate::config::{ProtocolVersion, TransportKind};

/// The opening request of a session.
#[derive(Clone, Debug)]
pub struct Handshake {
    /// Protocol revision (`EIO`).
    pub protocol: ProtocolVersion,
    /// The transport the session opened with.
    pub transport: TransportKind,
    /// Request headers, kept compactly for the session's life.
    pub headers: Headers,
    /// Request URI (path and query).
    pub uri: http::Uri,
    /// The peer's address.
    pub remote_addr: SocketAddr,
    /// When the session opened.
    pub issued: SystemTime,
    /// Whether the request came over TLS (an `https` URI or `X-Forwarded-Proto: https`).
    pub secure: bool,
}

impl Handshake {
    /// A query parameter, percent-decoded (`+` is a space); the last one wins
    /// when a key repeats, as with the reference's query object.
    pub fn query(&self, key: &str) -> Option<String> {
        query_value(self.uri.query().unwrap_or(""), key)
    }
}

/// The headers of a session's opening request, kept for the session's life in
/// two allocations: the names (lower-case) and values in one buffer, and where
/// each starts. A browser's dozen headers cost their own bytes and 12 more per
/// header, where an `http::HeaderMap` would take about 2 KiB on every idle
/// connection. Names are matched without regard to case; a header sent several
/// times keeps each value, in order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    buf: Box<[u8]>,
    spans: Box<[Span]>,
}

/// One header in [`Headers::buf`]: the name from `start`, then the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u32,
    name_len: u32,
    value_len: u32,
}

impl Headers {
    /// A compact copy of `map`, in its iteration order (a header sent several
    /// times keeps its values together, first to last).
    pub fn from_map(map: &http::HeaderMap) -> Headers {
        let size = map.iter().map(|(n, v)| n.as_str().len() + v.len()).sum();
        let mut buf = Vec::with_capacity(size);
        let mut spans = Vec::with_capacity(map.len());
        for (name, value) in map {
            // A head large enough to overflow the offsets is refused long before
            // (HttpConfig::max_head_bytes); keep what fits rather than panic.
            let Ok(start) = u32::try_from(buf.len()) else {
                break;
            };
            buf.extend_from_slice(name.as_str().as_bytes());
            buf.extend_from_slice(value.as_bytes());
            spans.push(Span {
                start,
                name_len: name.as_str().len() as u32,
                value_len: value.len() as u32,
            });
        }
        Headers {
            buf: buf.into_boxed_slice(),
            spans: spans.into_boxed_slice(),
        }
    }

    fn name_of(&self, span: Span) -> &str {
        let start = span.start as usize;
        let bytes = &self.buf[start..start + span.name_len as usize];
        // Names come from `HeaderName`, which is ASCII.
        std::str::from_utf8(bytes).unwrap_or("")
    }

    fn value_of(&self, span: Span) -> &[u8] {
        let start = (span.start + span.name_len) as usize;
        &self.buf[start..start + span.value_len as usize]
    }

    /// Every header, name then value, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.spans
            .iter()
            .map(|&s| (self.name_of(s), self.value_of(s)))
    }

    /// Every value of the header `name` (any case), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The first value of the header `name` (any case).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The first value of the header `name` as text, if it is UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Whether the header `name` was sent.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The distinct names, in order of first appearance.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        let mut seen: Vec<&str> = Vec::new();
        self.iter().filter_map(move |(n, _)| {
            if seen.contains(&n) {
                None
            } else {
                seen.push(n);
                Some(n)
            }
        })
    }

    /// How many header lines (a header sent twice counts twice).
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The headers as an `http::HeaderMap`, for code that wants one.
    pub fn to_header_map(&self) -> http::HeaderMap {
        let mut map = http::HeaderMap::with_capacity(self.len());
        for (name, value) in self.iter() {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_bytes(value),
            ) {
                map.append(n, v);
            }
        }
        map
    }
}

/// Names only: values may hold cookies and keys that logs should not show.
impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Headers")
            .field("names", &self.names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The value of `key` in a query string (the last occurrence).
pub(crate) fn query_value(query: &str, key: &str) -> Option<String> {
    parse_query(query)
        .into_iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Splits an `application/x-www-form-urlencoded` string into decoded pairs.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Percent-decodes with `+` as a space; invalid escapes stay as written and
/// invalid UTF-8 becomes U+FFFD, as `URLSearchParams` does.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_keep_every_value_and_match_names_in_any_case() {
        let mut map = http::HeaderMap::new();
        map.append("user-agent", "Mozilla/5.0".parse().unwrap());
        map.append("cookie", "a=1".parse().unwrap());
        map.append("x-apikey", "k1".parse().unwrap());
        map.append("cookie", "b=2".parse().unwrap());
        map.append("x-raw", http::HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let h = Headers::from_map(&map);
        assert_eq!(h.len(), 5);
        assert_eq!(h.get("User-Agent"), Some(&b"Mozilla/5.0"[..]));
        assert_eq!(h.get_str("X-APIKEY"), Some("k1"));
        assert_eq!(
            h.get_all("cookie").collect::<Vec<_>>(),
            vec![&b"a=1"[..], &b"b=2"[..]]
        );
        assert_eq!(h.get("x-raw"), Some(&b"caf\xe9"[..]));
        assert_eq!(h.get_str("x-raw"), None, "not UTF-8");
        assert!(h.contains("cookie") && !h.contains("origin"));
        assert_eq!(h.get(""), None);
        assert_eq!(
            h.names().collect::<Vec<_>>(),
            vec!["user-agent", "cookie", "x-apikey", "x-raw"]
        );
        assert_eq!(h.to_header_map(), map);
        assert!(!format!("{h:?}").contains("a=1"), "Debug shows no values");
        assert!(Headers::default().is_empty());
    }

    #[test]
    fn decodes_query() {
        assert_eq!(percent_decode("a%20b+c%zz%4"), "a b c%zz%4");
        assert_eq!(percent_decode("%C3%A9%ff"), "é\u{fffd}");
        assert_eq!(query_value("EIO=4&t=1&t=2&x", "t").as_deref(), Some("2"));
        assert_eq!(query_value("EIO=4&x", "x").as_deref(), Some(""));
        assert_eq!(query_value("EIO=4", "sid"), None);
    }
}
