//! Reading one ingested event: the Evolution API's webhook payload (`event`, `instance`, `data`,
//! `date_time`, `sender`, `server_url`, `apikey`, ...) and the body of `POST /emit`.
//!
//! Contract: "`event` (a string, not a reserved Socket.IO name) and `instance` (a valid name) are
//! required; everything else is passed on unchanged." The payload is kept as a
//! [`Value`], whose objects keep their keys in order, so clients see the object as it was sent.
//! Emitting the event is up to [`crate::hub`].

use socketio_server::Value;

use crate::names::{is_reserved_event, valid_instance_name};

/// The longest event name accepted, in bytes.
pub const MAX_EVENT_NAME: usize = 256;

/// Why a body is not an event; each message names the problem for the 4xx answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The body is not JSON text.
    #[error("the body is not valid JSON ({0})")]
    NotJson(String),
    /// The body is JSON but not an object.
    #[error("the body must be a JSON object")]
    NotObject,
    /// No `event` in the body and none in the path.
    #[error("`event` is required")]
    MissingEvent,
    /// `event` is there but is not a usable name.
    #[error("`event` must be a non-empty string of at most 256 bytes")]
    BadEvent,
    /// `event` is a name the Socket.IO protocol reserves.
    #[error("`event` may not be the reserved name {0:?}")]
    ReservedEvent(String),
    /// No `instance` in the body.
    #[error("`instance` is required")]
    MissingInstance,
    /// `instance` is not a valid instance name.
    #[error("`instance` must be 1 to 128 characters of letters, digits, `.`, `_`, `~`, `-`")]
    BadInstance,
    /// `POST /emit`: `namespace` is missing or not `/` or `/<instance>`.
    #[error("`namespace` must be \"/\" or \"/<instance>\" with a valid instance name")]
    BadNamespace,
    /// `POST /emit`: `args` is not an array.
    #[error("`args` must be an array")]
    BadArgs,
}

impl IngestError {
    /// A short label for the rejections metric.
    pub fn label(&self) -> &'static str {
        match self {
            IngestError::NotJson(_) => "not_json",
            IngestError::NotObject => "not_object",
            IngestError::MissingEvent | IngestError::BadEvent | IngestError::ReservedEvent(_) => {
                "bad_event"
            }
            IngestError::MissingInstance | IngestError::BadInstance => "bad_instance",
            IngestError::BadNamespace => "bad_namespace",
            IngestError::BadArgs => "bad_args",
        }
    }
}

/// One webhook event, ready to emit.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// The event name clients receive.
    pub event: String,
    /// The instance whose namespace receives it.
    pub instance: String,
    /// The whole object, the single argument of the emitted event.
    pub payload: Value,
}

/// Reads a webhook body. `path_event` is the `/<event-name>` of the route: "the body's `event`
/// wins, and the path supplies it only when the body has none". `server_url` fills the event's
/// `server_url` when it has none.
pub fn parse_webhook(
    body: &[u8],
    path_event: Option<&str>,
    server_url: Option<&str>,
) -> Result<WebhookEvent, IngestError> {
    let Value::Object(mut fields) = parse_json(body)? else {
        return Err(IngestError::NotObject);
    };

    let event = match field(&fields, "event") {
        Some(Value::Null) | None => match path_event {
            Some(e) => {
                check_event(e)?;
                fields.push(("event".to_owned(), Value::String(e.to_owned())));
                e.to_owned()
            }
            None => return Err(IngestError::MissingEvent),
        },
        Some(Value::String(e)) => {
            check_event(e)?;
            e.clone()
        }
        Some(_) => return Err(IngestError::BadEvent),
    };

    let instance = match field(&fields, "instance") {
        None | Some(Value::Null) => return Err(IngestError::MissingInstance),
        Some(Value::String(i)) if valid_instance_name(i) => i.clone(),
        Some(_) => return Err(IngestError::BadInstance),
    };

    if let Some(url) = server_url {
        let has_url =
            matches!(field(&fields, "server_url"), Some(Value::String(s)) if !s.is_empty());
        if !has_url {
            fields.retain(|(k, _)| k != "server_url");
            fields.push(("server_url".to_owned(), Value::String(url.to_owned())));
        }
    }

    Ok(WebhookEvent {
        event,
        instance,
        payload: Value::Object(fields),
    })
}

/// One `POST /emit` request.
#[derive(Debug, Clone, PartialEq)]
pub struct EmitRequest {
    /// `/` or `/<instance>`.
    pub namespace: String,
    /// The event name.
    pub event: String,
    /// The event's arguments.
    pub args: Vec<Value>,
}

/// Reads a `POST /emit` body: `{"namespace","event","args":[...]}` (`args` may be left out).
pub fn parse_emit(body: &[u8]) -> Result<EmitRequest, IngestError> {
    let Value::Object(fields) = parse_json(body)? else {
        return Err(IngestError::NotObject);
    };
    let namespace = match field(&fields, "namespace") {
        Some(Value::String(n)) if n == "/" || crate::names::instance_of_namespace(n).is_some() => {
            n.clone()
        }
        _ => return Err(IngestError::BadNamespace),
    };
    let event = match field(&fields, "event") {
        None | Some(Value::Null) => return Err(IngestError::MissingEvent),
        Some(Value::String(e)) => {
            check_event(e)?;
            e.clone()
        }
        Some(_) => return Err(IngestError::BadEvent),
    };
    let args = match field(&fields, "args") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(IngestError::BadArgs),
    };
    Ok(EmitRequest {
        namespace,
        event,
        args,
    })
}

fn parse_json(body: &[u8]) -> Result<Value, IngestError> {
    let text = std::str::from_utf8(body).map_err(|_| IngestError::NotJson("not UTF-8".into()))?;
    Value::from_json_str(text).map_err(|e| IngestError::NotJson(e.to_string()))
}

/// The value of `key`; for a key written twice, the last value, as `JSON.parse` keeps it.
fn field<'a>(fields: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn check_event(name: &str) -> Result<(), IngestError> {
    if name.is_empty() || name.len() > MAX_EVENT_NAME {
        return Err(IngestError::BadEvent);
    }
    if is_reserved_event(name) {
        return Err(IngestError::ReservedEvent(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPSERT: &str = r#"{"event":"messages.upsert","instance":"shop","data":{"key":{"id":"A1"},"message":{"conversation":"hi"}},"destination":"http://x","date_time":"2025-01-01T00:00:00.000Z","sender":"551199@s.whatsapp.net","server_url":"http://evo:8080","apikey":"T"}"#;

    #[test]
    fn evolution_payload_passes_unchanged() {
        let ev = parse_webhook(UPSERT.as_bytes(), None, Some("http://gw")).unwrap();
        assert_eq!(ev.event, "messages.upsert");
        assert_eq!(ev.instance, "shop");
        // Same keys in the same order: the object goes out as it came in.
        assert_eq!(ev.payload.to_json_string(), UPSERT);
    }

    #[test]
    fn body_event_wins_over_path() {
        let ev = parse_webhook(UPSERT.as_bytes(), Some("messages-update"), None).unwrap();
        assert_eq!(ev.event, "messages.upsert");
        let ev = parse_webhook(
            br#"{"instance":"shop","data":1}"#,
            Some("messages-upsert"),
            None,
        )
        .unwrap();
        assert_eq!(ev.event, "messages-upsert");
        assert_eq!(
            ev.payload.get("event").and_then(Value::as_str),
            Some("messages-upsert")
        );
    }

    #[test]
    fn server_url_filled_only_when_missing() {
        let ev =
            parse_webhook(br#"{"event":"e","instance":"i"}"#, None, Some("http://gw")).unwrap();
        assert_eq!(
            ev.payload.get("server_url").and_then(Value::as_str),
            Some("http://gw")
        );
        let ev = parse_webhook(
            br#"{"event":"e","instance":"i","server_url":null}"#,
            None,
            Some("http://gw"),
        )
        .unwrap();
        assert_eq!(
            ev.payload.to_json_string(),
            r#"{"event":"e","instance":"i","server_url":"http://gw"}"#
        );
        let ev = parse_webhook(br#"{"event":"e","instance":"i"}"#, None, None).unwrap();
        assert_eq!(ev.payload.get("server_url"), None);
    }

    #[test]
    fn bad_input_names_the_problem() {
        let cases: &[(&[u8], IngestError)] = &[
            (b"{", IngestError::NotJson(String::new())),
            (b"\xff", IngestError::NotJson(String::new())),
            (b"[1]", IngestError::NotObject),
            (br#"{"instance":"i"}"#, IngestError::MissingEvent),
            (br#"{"event":5,"instance":"i"}"#, IngestError::BadEvent),
            (br#"{"event":"","instance":"i"}"#, IngestError::BadEvent),
            (
                br#"{"event":"connect","instance":"i"}"#,
                IngestError::ReservedEvent("connect".into()),
            ),
            (br#"{"event":"e"}"#, IngestError::MissingInstance),
            (
                br#"{"event":"e","instance":"a/b"}"#,
                IngestError::BadInstance,
            ),
            (br#"{"event":"e","instance":7}"#, IngestError::BadInstance),
        ];
        for (body, want) in cases {
            let got = parse_webhook(body, None, None).unwrap_err();
            match (want, &got) {
                (IngestError::NotJson(_), IngestError::NotJson(_)) => {}
                _ => assert_eq!(&got, want, "{}", String::from_utf8_lossy(body)),
            }
            assert!(!got.to_string().is_empty());
        }
        assert_eq!(
            parse_webhook(br#"{"instance":"i"}"#, Some("disconnect"), None),
            Err(IngestError::ReservedEvent("disconnect".into()))
        );
    }

    #[test]
    fn emit_requests() {
        let e = parse_emit(br#"{"namespace":"/shop","event":"x","args":[1,{"a":2}]}"#).unwrap();
        assert_eq!(e.namespace, "/shop");
        assert_eq!(e.args.len(), 2);
        assert_eq!(
            parse_emit(br#"{"namespace":"/","event":"x"}"#)
                .unwrap()
                .args,
            vec![]
        );
        assert_eq!(
            parse_emit(br#"{"namespace":"shop","event":"x"}"#),
            Err(IngestError::BadNamespace)
        );
        assert_eq!(
            parse_emit(br#"{"namespace":"/","event":"x","args":1}"#),
            Err(IngestError::BadArgs)
        );
        assert_eq!(
            parse_emit(br#"{"namespace":"/"}"#),
            Err(IngestError::MissingEvent)
        );
    }
}
