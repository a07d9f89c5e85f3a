//! The Socket.IO packet as a Rust value.
//!
//! This module owns [`Packet`], [`PacketKind`], [`ProtocolVersion`], the packet
//! constructors and [`split_query`]. It does not touch bytes: `encode` writes a
//! packet, `decode` reads one.

use crate::value::Value;

/// The Socket.IO protocol revision spoken on a connection.
///
/// The wire format is the same; the versions differ in what CONNECT and
/// CONNECT_ERROR carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// Protocol 4: socket.io 2.x clients over Engine.IO v3. CONNECT carries auth as
    /// a query string in the namespace (`0/admin?token=x,`); CONNECT_ERROR carries a
    /// bare value.
    V4,
    /// Protocol 5: socket.io 3.x and 4.x clients over Engine.IO v4. CONNECT carries
    /// the auth object; CONNECT_ERROR carries `{"message":...,"data":...}`.
    V5,
}

/// What a packet is, with its data.
///
/// BINARY_EVENT and BINARY_ACK (types 5 and 6) do not appear here: the encoder
/// picks them when the arguments hold [`Value::Binary`], and the decoder folds them
/// back into [`PacketKind::Event`] and [`PacketKind::Ack`] once every attachment
/// has arrived.
#[derive(Clone, Debug, PartialEq)]
pub enum PacketKind {
    /// Type 0: join a namespace. v5 clients send their auth object (or nothing); the
    /// server answers with `{"sid":...}`. v4 clients send nothing.
    Connect(Option<Value>),
    /// Type 1: leave a namespace. Carries no data.
    Disconnect,
    /// Type 2 (or 5): an event; the first element is the event name (a string, or
    /// a number, which the reference accepts too), the rest are the arguments. An
    /// EVENT sent with no data at all, which the reference parser lets through,
    /// decodes as an empty list.
    Event(Vec<Value>),
    /// Type 3 (or 6): the answer to an event that carried an id. An ACK with no data
    /// decodes as an empty list.
    Ack(Vec<Value>),
    /// Type 4: a refused CONNECT. `Value::Null` means no data (`4` alone), as the
    /// reference writes a packet whose data is `null` or missing.
    ConnectError(Value),
}

/// A Socket.IO packet: `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Packet {
    /// The type and its data.
    pub kind: PacketKind,
    /// The namespace, `/` by default. In protocol v4 a CONNECT's namespace may end
    /// with a query string (see [`split_query`]).
    pub nsp: String,
    /// The ack id: set on an EVENT that wants an answer, and on its ACK.
    pub id: Option<u64>,
}

impl Packet {
    /// A CONNECT to `nsp`, with the auth object (client) or `{"sid":...}` (server).
    pub fn connect(nsp: &str, data: Option<Value>) -> Packet {
        Packet {
            kind: PacketKind::Connect(data),
            nsp: nsp.to_owned(),
            id: None,
        }
    }

    /// A DISCONNECT from `nsp`.
    pub fn disconnect(nsp: &str) -> Packet {
        Packet {
            kind: PacketKind::Disconnect,
            nsp: nsp.to_owned(),
            id: None,
        }
    }

    /// An EVENT named `event` with `args`; `id` asks the peer for an ACK.
    ///
    /// ```
    /// use socketio_codec::{Packet, ProtocolVersion, Value};
    /// let p = Packet::event("/chat", "hello", vec![Value::from(1u64)], Some(7));
    /// assert_eq!(&p.encode(ProtocolVersion::V5).text[..], br#"2/chat,7["hello",1]"#);
    /// ```
    pub fn event(nsp: &str, event: &str, args: Vec<Value>, id: Option<u64>) -> Packet {
        let mut data = Vec::with_capacity(args.len() + 1);
        data.push(Value::from(event));
        data.extend(args);
        Packet {
            kind: PacketKind::Event(data),
            nsp: nsp.to_owned(),
            id,
        }
    }

    /// The ACK answering the event that carried `id`.
    pub fn ack(nsp: &str, id: u64, args: Vec<Value>) -> Packet {
        Packet {
            kind: PacketKind::Ack(args),
            nsp: nsp.to_owned(),
            id: Some(id),
        }
    }

    /// A CONNECT_ERROR refusing `nsp`, in the v5 form `{"message":...,"data":...}`
    /// (`data` left out when `None`). Encoded for protocol v4, it becomes the bare
    /// `data` if there is one and the bare `message` otherwise, as the reference
    /// does for socket.io 2.x clients.
    pub fn connect_error(nsp: &str, message: &str, data: Option<Value>) -> Packet {
        let mut fields = vec![("message".to_owned(), Value::from(message))];
        if let Some(data) = data {
            fields.push(("data".to_owned(), data));
        }
        Packet {
            kind: PacketKind::ConnectError(Value::Object(fields)),
            nsp: nsp.to_owned(),
            id: None,
        }
    }

    /// The event name of an EVENT whose first element is a string.
    pub fn event_name(&self) -> Option<&str> {
        match &self.kind {
            PacketKind::Event(data) => data.first().and_then(Value::as_str),
            _ => None,
        }
    }

    /// The arguments of an EVENT after its name, or of an ACK.
    pub fn args(&self) -> &[Value] {
        match &self.kind {
            PacketKind::Event(data) => data.get(1..).unwrap_or_default(),
            PacketKind::Ack(data) => data,
            _ => &[],
        }
    }

    /// The wire type digit: 0 to 4, or 5 and 6 for an EVENT or ACK holding binary.
    pub fn type_digit(&self) -> u8 {
        match &self.kind {
            PacketKind::Connect(_) => 0,
            PacketKind::Disconnect => 1,
            PacketKind::Event(d) if d.iter().any(Value::has_binary) => 5,
            PacketKind::Event(_) => 2,
            PacketKind::Ack(d) if d.iter().any(Value::has_binary) => 6,
            PacketKind::Ack(_) => 3,
            PacketKind::ConnectError(_) => 4,
        }
    }
}

/// Splits a protocol v4 CONNECT namespace from its query string:
/// `"/admin?token=x"` gives `("/admin", Some("token=x"))`.
///
/// socket.io 2.x clients send their query this way (`0/admin?token=x,`); v5
/// namespaces never carry one, and a namespace without `?` gives `None`.
pub fn split_query(nsp: &str) -> (&str, Option<&str>) {
    match nsp.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (nsp, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors() {
        let e = Packet::event(
            "/",
            "ping",
            vec![Value::from(1u64), Value::from(vec![1u8])],
            Some(3),
        );
        assert_eq!(e.event_name(), Some("ping"));
        assert_eq!(e.args().len(), 2);
        assert_eq!(e.type_digit(), 5);
        assert_eq!(e.id, Some(3));

        let a = Packet::ack("/x", 9, vec![]);
        assert_eq!((a.type_digit(), a.id, a.event_name()), (3, Some(9), None));
        assert_eq!(Packet::disconnect("/").type_digit(), 1);
        assert_eq!(Packet::connect("/", None).kind, PacketKind::Connect(None));

        let err = Packet::connect_error("/", "nope", Some(Value::from(1u64)));
        let PacketKind::ConnectError(v) = &err.kind else {
            panic!("kind")
        };
        assert_eq!(v.get("message").and_then(Value::as_str), Some("nope"));
        assert_eq!(v.get("data").and_then(Value::as_u64), Some(1));
    }

    #[test]
    fn numeric_event_names_have_no_name() {
        let p = Packet {
            kind: PacketKind::Event(vec![Value::from(1u64)]),
            nsp: "/".into(),
            id: None,
        };
        assert_eq!(p.event_name(), None);
    }

    #[test]
    fn split_query_cases() {
        assert_eq!(split_query("/admin?token=x"), ("/admin", Some("token=x")));
        assert_eq!(split_query("/admin"), ("/admin", None));
        assert_eq!(split_query("/?"), ("/", Some("")));
        assert_eq!(split_query("/a?b?c"), ("/a", Some("b?c")));
    }
}
