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
    /// Request headers.
    pub headers: http::HeaderMap,
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
    fn decodes_query() {
        assert_eq!(percent_decode("a%20b+c%zz%4"), "a b c%zz%4");
        assert_eq!(percent_decode("%C3%A9%ff"), "é\u{fffd}");
        assert_eq!(query_value("EIO=4&t=1&t=2&x", "t").as_deref(), Some("2"));
        assert_eq!(query_value("EIO=4&x", "x").as_deref(), Some(""));
        assert_eq!(query_value("EIO=4", "sid"), None);
    }
}
