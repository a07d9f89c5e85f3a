//! HTTP details shared by every answer: CORS headers and preflights, the
//! polling response headers, response compression, and reading a hyper body
//! up to a limit.

use std::io::Write;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

use crate::config::{CorsConfig, CorsOrigins};

/// Response body type of the engine.
pub type EngineBody = Full<Bytes>;

/// Why a request body read by hyper was not read whole.
pub(crate) enum BodyError {
    /// Over the limit: by its `Content-Length` (then left unread) or as it arrived.
    TooLarge,
    /// The connection failed while the body was being read.
    Io,
}

/// The whole of a body hyper is reading, up to `max` bytes.
pub(crate) async fn read_limited(
    mut body: hyper::body::Incoming,
    max: usize,
) -> Result<Bytes, BodyError> {
    use http_body::Body as _;
    use http_body_util::BodyExt as _;
    if body.size_hint().lower() > max as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Io)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > max {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// A response with a status and no body.
pub(crate) fn empty(status: StatusCode) -> Response<EngineBody> {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = status;
    res
}

fn value(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(s).ok()
}

/// Adds the CORS headers of an actual (non-preflight) request from `origin`.
pub(crate) fn apply_cors(cors: &CorsConfig, origin: Option<&HeaderValue>, res: &mut HeaderMap) {
    apply_origin(cors, origin, res);
    if cors.credentials {
        res.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    if !cors.exposed_headers.is_empty()
        && let Some(v) = value(&cors.exposed_headers.join(","))
    {
        res.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v);
    }
}

/// The answer to a CORS preflight (`OPTIONS`): 204 with the allowed methods and headers.
pub(crate) fn preflight(cors: &CorsConfig, req: &HeaderMap) -> Response<EngineBody> {
    let mut res = empty(StatusCode::NO_CONTENT);
    let h = res.headers_mut();
    apply_origin(cors, req.get(header::ORIGIN), h);
    if cors.credentials {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    if let Some(v) = value(&cors.methods.join(",")) {
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v);
    }
    match &cors.allowed_headers {
        Some(list) => {
            if let Some(v) = value(&list.join(",")) {
                h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
            }
        }
        None => {
            // Without a configured list, the requested headers are allowed.
            if let Some(v) = req.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
                h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
                h.append(
                    header::VARY,
                    HeaderValue::from_static("Access-Control-Request-Headers"),
                );
            }
        }
    }
    if let Some(age) = cors.max_age {
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(age));
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    res
}

fn apply_origin(cors: &CorsConfig, origin: Option<&HeaderValue>, res: &mut HeaderMap) {
    match &cors.origins {
        CorsOrigins::Any if !cors.credentials => {
            res.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
        CorsOrigins::Any => {
            // Browsers refuse `*` with credentials: echo the caller's origin.
            if let Some(o) = origin {
                res.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
            }
            res.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        CorsOrigins::List(list) => {
            if let Some(o) = origin
                && list
                    .iter()
                    .any(|allowed| allowed.as_bytes() == o.as_bytes())
            {
                res.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
            }
            res.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

/// A compression the client accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Gzip,
    Deflate,
}

/// Picks gzip or deflate from `Accept-Encoding` (highest quality, gzip on a tie).
pub(crate) fn pick_encoding(req: &HeaderMap) -> Option<Encoding> {
    let mut gzip: Option<f32> = None;
    let mut deflate: Option<f32> = None;
    let mut star: Option<f32> = None;
    for v in req.get_all(header::ACCEPT_ENCODING) {
        let Ok(v) = v.to_str() else { continue };
        for item in v.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match name.as_str() {
                "gzip" => gzip = Some(q),
                "deflate" => deflate = Some(q),
                "*" => star = Some(q),
                _ => {}
            }
        }
    }
    let g = gzip.or(star).unwrap_or(0.0);
    let d = deflate.or(star).unwrap_or(0.0);
    if g <= 0.0 && d <= 0.0 {
        None
    } else if g >= d {
        Some(Encoding::Gzip)
    } else {
        Some(Encoding::Deflate)
    }
}

/// Compresses a body; `None` if the encoder failed (the body is then sent as is).
pub(crate) fn compress(encoding: Encoding, data: &[u8]) -> Option<Vec<u8>> {
    let level = flate2::Compression::default();
    match encoding {
        Encoding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
            e.write_all(data).ok()?;
            e.finish().ok()
        }
        Encoding::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), level);
            e.write_all(data).ok()?;
            e.finish().ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn encoding_negotiation() {
        assert_eq!(
            pick_encoding(&headers(&[("accept-encoding", "gzip, deflate, br")])),
            Some(Encoding::Gzip)
        );
        assert_eq!(
            pick_encoding(&headers(&[("accept-encoding", "gzip;q=0.5, deflate")])),
            Some(Encoding::Deflate)
        );
        assert_eq!(pick_encoding(&headers(&[("accept-encoding", "br")])), None);
        assert_eq!(
            pick_encoding(&headers(&[("accept-encoding", "gzip;q=0")])),
            None
        );
        assert_eq!(pick_encoding(&headers(&[])), None);
    }

    #[test]
    fn preflight_echoes_requested_headers() {
        let req = headers(&[
            ("origin", "http://a"),
            ("access-control-request-headers", "x-a"),
        ]);
        let res = preflight(&CorsConfig::default(), &req);
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let h = res.headers();
        assert_eq!(h["access-control-allow-origin"], "*");
        assert_eq!(
            h["access-control-allow-methods"],
            "GET,HEAD,PUT,PATCH,POST,DELETE"
        );
        assert_eq!(h["access-control-allow-headers"], "x-a");
    }

    #[test]
    fn credentials_echo_origin_and_list_filters() {
        let req = headers(&[("origin", "http://a")]);
        let mut res = HeaderMap::new();
        let cors = CorsConfig {
            credentials: true,
            ..CorsConfig::default()
        };
        apply_cors(&cors, req.get("origin"), &mut res);
        assert_eq!(res["access-control-allow-origin"], "http://a");
        assert_eq!(res["access-control-allow-credentials"], "true");
        let cors = CorsConfig {
            origins: CorsOrigins::List(vec!["http://b".into()]),
            ..CorsConfig::default()
        };
        let mut res = HeaderMap::new();
        apply_cors(&cors, req.get("origin"), &mut res);
        assert!(res.get("access-control-allow-origin").is_none());
    }
}
