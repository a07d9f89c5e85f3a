//! Request errors and their one mapping to the wire.
//!
//! The reference answers HTTP errors with status 400 (403 for `Forbidden`) and
//! the JSON body `{"code":N,"message":"..."}`, and a refused WebSocket
//! handshake with a plain-text 400 before any upgrade.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

/// The Engine.IO error codes of an HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Code 0: the `transport` parameter names no enabled transport.
    #[error("Transport unknown")]
    UnknownTransport,
    /// Code 1: the `sid` names no live session.
    #[error("Session ID unknown")]
    UnknownSid,
    /// Code 2: a handshake that is not a GET.
    #[error("Bad handshake method")]
    BadHandshakeMethod,
    /// Code 3: a request that breaks the protocol otherwise.
    #[error("Bad request")]
    BadRequest,
    /// Code 4: the access check refused the handshake, with its message.
    #[error("{0}")]
    Forbidden(String),
    /// Code 5: an `EIO` revision this server does not speak.
    #[error("Unsupported protocol version")]
    UnsupportedProtocolVersion,
}

impl RequestError {
    /// The numeric code.
    pub fn code(&self) -> u8 {
        match self {
            RequestError::UnknownTransport => 0,
            RequestError::UnknownSid => 1,
            RequestError::BadHandshakeMethod => 2,
            RequestError::BadRequest => 3,
            RequestError::Forbidden(_) => 4,
            RequestError::UnsupportedProtocolVersion => 5,
        }
    }

    /// The message of the JSON body.
    pub fn message(&self) -> String {
        match self {
            RequestError::Forbidden(m) if m.is_empty() => "Forbidden".to_owned(),
            other => other.to_string(),
        }
    }

    /// The JSON body, byte-exact as the reference writes it.
    pub fn json_body(&self) -> String {
        serde_json::json!({ "code": self.code(), "message": self.message() }).to_string()
    }

    /// The HTTP status: 403 for `Forbidden`, 400 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            RequestError::Forbidden(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The answer to a polling (or preflight) request.
    pub(crate) fn to_http(&self) -> Response<Full<Bytes>> {
        let mut res = Response::new(Full::new(Bytes::from(self.json_body())));
        *res.status_mut() = self.status();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res
    }

    /// The answer to a refused WebSocket handshake: plain text, connection closed.
    pub(crate) fn to_upgrade_refusal(&self) -> Response<Full<Bytes>> {
        let mut res = Response::new(Full::new(Bytes::from(self.message())));
        *res.status_mut() = StatusCode::BAD_REQUEST;
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_exact() {
        assert_eq!(
            RequestError::UnknownTransport.json_body(),
            r#"{"code":0,"message":"Transport unknown"}"#
        );
        assert_eq!(
            RequestError::UnknownSid.json_body(),
            r#"{"code":1,"message":"Session ID unknown"}"#
        );
        assert_eq!(
            RequestError::BadHandshakeMethod.json_body(),
            r#"{"code":2,"message":"Bad handshake method"}"#
        );
        assert_eq!(
            RequestError::BadRequest.json_body(),
            r#"{"code":3,"message":"Bad request"}"#
        );
        assert_eq!(
            RequestError::Forbidden(String::new()).json_body(),
            r#"{"code":4,"message":"Forbidden"}"#
        );
        assert_eq!(
            RequestError::Forbidden("no \"key\"".into()).json_body(),
            r#"{"code":4,"message":"no \"key\""}"#
        );
        assert_eq!(
            RequestError::UnsupportedProtocolVersion.json_body(),
            r#"{"code":5,"message":"Unsupported protocol version"}"#
        );
        assert_eq!(
            RequestError::Forbidden(String::new()).status(),
            StatusCode::FORBIDDEN
        );
    }
}
