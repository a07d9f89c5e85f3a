//! Who may connect where, decided without IO: the handshake check, the namespace admission and
//! the client's event filter.
//!
//! Contract: "A client's key is the first of: the auth payload's `apikey`, the `apikey` query
//! parameter, the `apikey` header. The global key opens every namespace; an instance's token opens
//! only that instance's namespace; a client from an allowed host needs no key for instance
//! namespaces. A handshake whose query or header carries a key that matches nothing is refused at
//! once with HTTP 403 `{"code":4,"message":...}`; every other refusal is a CONNECT_ERROR."
//!
//! A client that presents a key is judged by that key alone; the allowed hosts only admit clients
//! that present none. [`crate::hub`] turns these decisions into middlewares.

use std::net::IpAddr;

use socketio_server::Value;

use crate::{
    config::HostList,
    http_util::query_param,
    keys::{Access, Keys},
    names::normalize_event,
};

/// The handshake refusal message (HTTP 403) for a query or header key that matches nothing.
pub const INVALID_KEY: &str = "Invalid API key";

/// How a socket was let into its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// With the global key.
    Global,
    /// With the namespace's instance token (such sockets leave when the token changes).
    Token,
    /// Without a key, from an allowed host.
    Host,
}

impl Admission {
    /// The name kept in the socket's data.
    pub fn as_str(self) -> &'static str {
        match self {
            Admission::Global => "global",
            Admission::Token => "token",
            Admission::Host => "host",
        }
    }
}

/// A refusal at CONNECT: its message for the client's `connect_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No key, and the client's address is not allowed without one.
    #[error("an API key is required: send it as auth.apikey, the apikey query parameter or header")]
    KeyRequired,
    /// The key opens nothing.
    #[error("Invalid API key")]
    InvalidKey,
    /// The key is another instance's token.
    #[error("this key does not open namespace {0}")]
    WrongInstance(String),
    /// Namespace `/` needs the global key.
    #[error("namespace / needs the global key")]
    GlobalKeyRequired,
    /// The auth payload's `events` is not a list of strings.
    #[error("auth.events must be a list of event names (strings)")]
    BadFilter,
}

/// The `apikey` of the handshake request: the query parameter, else the header.
pub fn handshake_key(parts: &http::request::Parts) -> Option<String> {
    query_param(parts.uri.query(), "apikey").or_else(|| {
        parts
            .headers
            .get("apikey")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// The Engine.IO handshake check: a key in the query or a header that matches nothing is refused
/// at once (HTTP 403 with [`INVALID_KEY`]).
pub fn check_handshake(keys: &Keys, parts: &http::request::Parts) -> Result<(), String> {
    match handshake_key(parts) {
        Some(key) if keys.resolve(&key).is_none() => Err(INVALID_KEY.to_owned()),
        _ => Ok(()),
    }
}

/// A client's key: the auth payload's `apikey`, else the handshake's query parameter or header.
pub fn client_key(auth: &Value, handshake: Option<String>) -> Option<String> {
    match auth.get("apikey") {
        Some(Value::String(k)) if !k.is_empty() => Some(k.clone()),
        _ => handshake.filter(|k| !k.is_empty()),
    }
}

/// Whether a client may join the namespace of `instance` (`None` for `/`).
pub fn admit(
    keys: &Keys,
    allowed_hosts: Option<&HostList>,
    instance: Option<&str>,
    key: Option<&str>,
    address: IpAddr,
) -> Result<Admission, Refusal> {
    let access = key.map(|k| keys.resolve(k));
    let Some(instance) = instance else {
        return match access {
            Some(Some(Access::Global)) => Ok(Admission::Global),
            _ => Err(Refusal::GlobalKeyRequired),
        };
    };
    match access {
        Some(Some(Access::Global)) => Ok(Admission::Global),
        Some(Some(Access::Instance(owner))) if owner == instance => Ok(Admission::Token),
        Some(Some(Access::Instance(_))) => Err(Refusal::WrongInstance(format!("/{instance}"))),
        Some(None) => Err(Refusal::InvalidKey),
        None if allowed_hosts.is_some_and(|h| h.allows(address)) => Ok(Admission::Host),
        None => Err(Refusal::KeyRequired),
    }
}

/// The client's filter from its auth payload's `events`, in normal form; empty means every event.
pub fn parse_filter(auth: &Value) -> Result<Vec<String>, Refusal> {
    match auth.get("events") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(normalize_event).ok_or(Refusal::BadFilter))
            .collect(),
        Some(_) => Err(Refusal::BadFilter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, test_dir};

    async fn keys(dir: &std::path::Path) -> Keys {
        let keys = Keys::load(Store::open(dir).unwrap(), Some("G".into())).unwrap();
        keys.put("shop", "T-shop").await.unwrap();
        keys.put("bar", "T-bar").await.unwrap();
        keys
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn every_admission_case() {
        let dir = test_dir("auth-admit");
        let k = keys(&dir.0).await;
        let lan = ip("10.0.0.5");
        let hosts: HostList = "127.0.0.1".parse().unwrap();

        assert_eq!(
            admit(&k, None, Some("shop"), Some("G"), lan),
            Ok(Admission::Global)
        );
        assert_eq!(
            admit(&k, None, Some("shop"), Some("T-shop"), lan),
            Ok(Admission::Token)
        );
        assert_eq!(
            admit(&k, None, Some("shop"), Some("T-bar"), lan),
            Err(Refusal::WrongInstance("/shop".into()))
        );
        assert_eq!(
            admit(&k, None, Some("shop"), Some("nope"), lan),
            Err(Refusal::InvalidKey)
        );
        assert_eq!(
            admit(&k, None, Some("shop"), None, lan),
            Err(Refusal::KeyRequired)
        );
        // An instance never seen before is open to the global key.
        assert_eq!(
            admit(&k, None, Some("new"), Some("G"), lan),
            Ok(Admission::Global)
        );

        // Allowed hosts: only for instance namespaces, only without a key.
        assert_eq!(
            admit(&k, Some(&hosts), Some("shop"), None, ip("127.0.0.1")),
            Ok(Admission::Host)
        );
        assert_eq!(
            admit(&k, Some(&hosts), Some("shop"), None, ip("::ffff:127.0.0.1")),
            Ok(Admission::Host)
        );
        assert_eq!(
            admit(&k, Some(&hosts), Some("shop"), None, lan),
            Err(Refusal::KeyRequired)
        );
        assert_eq!(
            admit(
                &k,
                Some(&hosts),
                Some("shop"),
                Some("nope"),
                ip("127.0.0.1")
            ),
            Err(Refusal::InvalidKey)
        );
        assert_eq!(
            admit(&k, Some(&hosts), None, None, ip("127.0.0.1")),
            Err(Refusal::GlobalKeyRequired)
        );

        // `/` takes the global key only.
        assert_eq!(admit(&k, None, None, Some("G"), lan), Ok(Admission::Global));
        assert_eq!(
            admit(&k, None, None, Some("T-shop"), lan),
            Err(Refusal::GlobalKeyRequired)
        );
    }

    #[tokio::test]
    async fn with_defaults_no_address_gets_in_without_a_key() {
        let dir = test_dir("auth-loopback");
        let k = Keys::load(Store::open(&dir.0).unwrap(), None).unwrap();
        let hosts = crate::config::Config::try_parse_args(&[])
            .unwrap()
            .allowed_hosts;
        for addr in ["127.0.0.1", "::1", "10.1.2.3", "203.0.113.7"] {
            assert_eq!(
                admit(&k, hosts.as_ref(), Some("shop"), None, ip(addr)),
                Err(Refusal::KeyRequired)
            );
        }
    }

    #[tokio::test]
    async fn handshake_keys_that_match_nothing_are_forbidden() {
        let dir = test_dir("auth-handshake");
        let k = keys(&dir.0).await;
        let parts = |uri: &str, header: Option<&str>| {
            let mut b = http::Request::builder().uri(uri);
            if let Some(h) = header {
                b = b.header("apikey", h);
            }
            b.body(()).unwrap().into_parts().0
        };
        assert_eq!(
            check_handshake(&k, &parts("/socket.io/?EIO=4&transport=polling", None)),
            Ok(())
        );
        assert_eq!(
            check_handshake(&k, &parts("/socket.io/?EIO=4&apikey=G", None)),
            Ok(())
        );
        // Another instance's token passes the handshake; the namespace refuses it later.
        assert_eq!(
            check_handshake(&k, &parts("/socket.io/?apikey=T-bar", None)),
            Ok(())
        );
        assert_eq!(
            check_handshake(&k, &parts("/socket.io/?apikey=x", None)),
            Err(INVALID_KEY.into())
        );
        assert_eq!(
            check_handshake(&k, &parts("/socket.io/", Some("x"))),
            Err(INVALID_KEY.into())
        );
        assert_eq!(
            check_handshake(&k, &parts("/socket.io/", Some("T-shop"))),
            Ok(())
        );
    }

    #[test]
    fn key_order_is_auth_then_handshake() {
        let auth = Value::from_json_str(r#"{"apikey":"A"}"#).unwrap();
        assert_eq!(client_key(&auth, Some("Q".into())).as_deref(), Some("A"));
        assert_eq!(
            client_key(&Value::Object(vec![]), Some("Q".into())).as_deref(),
            Some("Q")
        );
        assert_eq!(client_key(&Value::Object(vec![]), None), None);
    }

    #[test]
    fn filters() {
        let f = |s: &str| parse_filter(&Value::from_json_str(s).unwrap());
        assert_eq!(f("{}"), Ok(vec![]));
        assert_eq!(f(r#"{"events":[]}"#), Ok(vec![]));
        assert_eq!(
            f(r#"{"events":["MESSAGES_UPSERT","connection.update"]}"#),
            Ok(vec![
                "messages.upsert".to_owned(),
                "connection.update".to_owned()
            ])
        );
        assert_eq!(
            f(r#"{"events":"messages.upsert"}"#),
            Err(Refusal::BadFilter)
        );
        assert_eq!(f(r#"{"events":[1]}"#), Err(Refusal::BadFilter));
    }
}
