//! A socket's handshake as a fetch response carries it to another node, in the shape of the
//! reference server's `socket.handshake`: `{headers, time, address, xdomain, secure, issued,
//! url, query, auth}`.

use std::time::{SystemTime, UNIX_EPOCH};

use socketio_codec::Value;
use socketio_server::Handshake;

use crate::message::object;

/// The handshake as a value.
pub(crate) fn describe(handshake: &Handshake) -> Value {
    let mut headers: Vec<(String, Value)> = Vec::new();
    for name in handshake.headers().names() {
        let values = handshake
            .headers()
            .get_all(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        headers.push((name.to_owned(), node_header(name, values)));
    }
    let xdomain = handshake.headers().contains("origin");
    let url = handshake.url();
    let path = url
        .path_and_query()
        .map_or_else(|| url.path().to_owned(), |p| p.as_str().to_owned());
    let query = url
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .filter(|key| !key.is_empty())
        .filter_map(|key| Some((key.to_owned(), Value::from(handshake.query(key)?))))
        .collect::<Vec<_>>();
    object(vec![
        ("headers", Value::Object(headers)),
        ("time", Value::from(date_string(handshake.time()))),
        ("address", Value::from(handshake.address().ip().to_string())),
        ("xdomain", Value::Bool(xdomain)),
        ("secure", Value::Bool(handshake.secure())),
        ("issued", Value::from(millis(handshake.issued()))),
        ("url", Value::from(path)),
        ("query", Value::Object(query)),
        ("auth", handshake.auth().clone()),
    ])
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A time as JavaScript's `Date.prototype.toString` writes it in UTC:
/// `Fri Dec 04 2026 12:00:00 GMT+0000 (Coordinated Universal Time)`.
fn date_string(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Days since 1970-01-01 to a civil date (proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{} {} {:02} {} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Headers of which Node.js keeps the first when a request repeats them.
const FIRST_ONLY: &[&str] = &[
    "age",
    "authorization",
    "content-length",
    "content-type",
    "etag",
    "expires",
    "from",
    "host",
    "if-modified-since",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "proxy-authorization",
    "referer",
    "retry-after",
    "server",
    "user-agent",
];

/// One header's value as Node.js gives it in `req.headers` when the request sent it once or
/// more: `set-cookie` as a list, `cookie` joined with "; ", a few kept first only, any other
/// joined with ", ".
fn node_header(name: &str, mut values: Vec<String>) -> Value {
    match name {
        "set-cookie" => Value::Array(values.into_iter().map(Value::from).collect()),
        "cookie" => Value::from(values.join("; ")),
        _ if FIRST_ONLY.contains(&name) => {
            values.truncate(1);
            Value::from(values.pop().unwrap_or_default())
        }
        _ => Value::from(values.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn repeated_headers_read_as_node_js_reads_them() {
        let two = |a: &str, b: &str| vec![a.to_owned(), b.to_owned()];
        assert_eq!(
            node_header("accept", two("a/b", "c/d")),
            Value::from("a/b, c/d")
        );
        assert_eq!(
            node_header("cookie", two("a=1", "b=2")),
            Value::from("a=1; b=2")
        );
        assert_eq!(
            node_header("user-agent", two("first", "second")),
            Value::from("first")
        );
        assert_eq!(
            node_header("set-cookie", two("a=1", "b=2")),
            Value::Array(vec![Value::from("a=1"), Value::from("b=2")])
        );
        assert_eq!(node_header("x-one", vec!["v".to_owned()]), Value::from("v"));
    }

    #[test]
    fn dates_read_as_javascript_writes_them() {
        let t = UNIX_EPOCH + Duration::from_secs(1_796_385_600);
        assert_eq!(
            date_string(t),
            "Fri Dec 04 2026 12:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            date_string(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "Tue Feb 29 2000 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
    }
}
