//! Small HTTP helpers shared by the HTTP API and the relay: percent-encoding, query parameters,
//! JSON responses and bounded body reading.
//!
//! Nothing here knows about routes or keys; it only turns bytes into HTTP and back.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};

/// The body type of every response the gateway writes (the same as the Engine.IO server's).
pub type Body = Full<Bytes>;

/// Percent-encodes everything but the URL's unreserved characters (letters, digits, `-._~`).
///
/// ```
/// assert_eq!(sio_gateway::http_util::percent_encode("a b/ç"), "a%20b%2F%C3%A7");
/// ```
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`). A malformed escape is kept
/// as written, and bytes that do not form UTF-8 become U+FFFD: a peer's bad input never fails.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first value of query parameter `key` in `query` (the part after `?`), decoded.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k, true) == key).then(|| percent_decode(v, true))
    })
}

/// A response with a JSON body.
pub fn json(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    json_text(status, body.to_string())
}

/// A response whose body is JSON text already written.
pub fn json_text(status: StatusCode, text: String) -> Response<Body> {
    let mut res = Response::new(Full::new(Bytes::from(text)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// The JSON error answer of the HTTP API: `{"error": message}`.
pub fn json_error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message }))
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is larger than allowed.
    #[error("the body is larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The connection failed while the body was read.
    #[error("the body could not be read: {0}")]
    Read(String),
}

/// Reads a whole body, refusing one larger than `max` bytes.
pub async fn read_body<B>(body: B, max: usize) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        // The second: a body the HTTP server left unread because it was over the same limit.
        Err(e)
            if e.is::<http_body_util::LengthLimitError>()
                || e.is::<socketio_server::engineio::BodyTooLarge>() =>
        {
            Err(BodyError::TooLarge { max })
        }
        Err(e) => Err(BodyError::Read(e.to_string())),
    }
}

/// Compares two secrets in time independent of where they differ, so that a key cannot be
/// guessed one character at a time from response times.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_round_trip() {
        for s in ["plain", "a b", "é/ü?&=#", "50%", "+"] {
            assert_eq!(percent_decode(&percent_encode(s), false), s);
        }
    }

    #[test]
    fn malformed_escapes_are_kept() {
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(percent_decode("%ff", false), "\u{fffd}");
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_decode("a+b", false), "a+b");
    }

    #[test]
    fn query_params() {
        let q = Some("EIO=4&apikey=a%2Bb&x&apikey=second");
        assert_eq!(query_param(q, "apikey").as_deref(), Some("a+b"));
        assert_eq!(query_param(q, "x").as_deref(), Some(""));
        assert_eq!(query_param(q, "missing"), None);
        assert_eq!(query_param(None, "apikey"), None);
    }

    #[test]
    fn secrets_compare() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }

    #[tokio::test]
    async fn bodies_are_bounded() {
        let ok = read_body(Full::new(Bytes::from_static(b"12345")), 5).await;
        assert_eq!(ok.ok().as_deref(), Some(&b"12345"[..]));
        let big = read_body(Full::new(Bytes::from_static(b"123456")), 5).await;
        assert!(matches!(big, Err(BodyError::TooLarge { max: 5 })));
    }
}
