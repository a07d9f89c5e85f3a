//! Names the gateway accepts from the outside: instance names (which become namespaces), event
//! names (which become Socket.IO events), and the normal form used to match a client's filter.
//!
//! This module only decides what a name is; refusing a request or a connection is up to the callers.

/// The longest instance name accepted.
pub const MAX_INSTANCE_NAME: usize = 128;

/// Event names the Socket.IO protocol keeps for itself: an ingested event may not use them.
pub const RESERVED_EVENTS: &[&str] = &socketio_server::codec::RESERVED_EVENTS;

/// Whether `name` is a valid instance name.
///
/// Contract: "a valid name is 1 to 128 characters of letters, digits, `.`, `_`, `~`, `-`" (the
/// unreserved characters of a URL, so a name needs no escaping in a path or a namespace).
///
/// ```
/// assert!(sio_gateway::names::valid_instance_name("shop-1.main_~x"));
/// assert!(!sio_gateway::names::valid_instance_name("a/b"));
/// ```
pub fn valid_instance_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_INSTANCE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
}

/// The instance named by a namespace (`/shop` → `shop`), when the namespace is an instance's.
pub fn instance_of_namespace(nsp: &str) -> Option<&str> {
    let name = nsp.strip_prefix('/')?;
    valid_instance_name(name).then_some(name)
}

/// Whether `name` is one of the names the protocol reserves.
pub fn is_reserved_event(name: &str) -> bool {
    RESERVED_EVENTS.contains(&name)
}

/// The form event names are compared in: lower case, `_` and `-` read as `.`, so that the
/// Evolution API's `MESSAGES_UPSERT`, its webhook's `messages.upsert` and the `messages-upsert`
/// its "webhook by events" mode appends to the URL are one event.
///
/// ```
/// assert_eq!(sio_gateway::names::normalize_event("MESSAGES_UPSERT"), "messages.upsert");
/// ```
pub fn normalize_event(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == '_' || c == '-' {
                '.'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The room a socket joins to receive the ingested events named `event` (any spelling).
pub fn event_room(event: &str) -> String {
    format!("ev:{}", normalize_event(event))
}

/// The room of the sockets that asked for every event.
pub const ALL_EVENTS_ROOM: &str = "*";

/// The room of the sockets of an instance's namespace that came in with the instance's token.
pub const TOKEN_ROOM: &str = "tok";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_follow_the_contract() {
        assert!(valid_instance_name("a"));
        assert!(valid_instance_name("Shop.01_x~y-z"));
        assert!(valid_instance_name(&"x".repeat(128)));
        assert!(!valid_instance_name(&"x".repeat(129)));
        assert!(!valid_instance_name(""));
        for bad in ["a b", "a/b", "a?b", "é", "a,b", "a%20", "a#"] {
            assert!(!valid_instance_name(bad), "{bad:?} must be refused");
        }
    }

    #[test]
    fn namespaces_map_to_instances() {
        assert_eq!(instance_of_namespace("/shop"), Some("shop"));
        assert_eq!(instance_of_namespace("/"), None);
        assert_eq!(instance_of_namespace("shop"), None);
        assert_eq!(instance_of_namespace("/a/b"), None);
    }

    #[test]
    fn filter_normalisation_joins_both_spellings() {
        assert_eq!(normalize_event("MESSAGES_UPSERT"), "messages.upsert");
        assert_eq!(normalize_event("messages.upsert"), "messages.upsert");
        assert_eq!(normalize_event("Connection_Update"), "connection.update");
        assert_eq!(event_room("QRCODE_UPDATED"), "ev:qrcode.updated");
        assert_eq!(event_room("qrcode.updated"), "ev:qrcode.updated");
        assert_eq!(normalize_event("messages-upsert"), "messages.upsert");
    }

    #[test]
    fn reserved_names() {
        assert!(is_reserved_event("connect"));
        assert!(is_reserved_event("removeListener"));
        assert!(!is_reserved_event("messages.upsert"));
    }
}
