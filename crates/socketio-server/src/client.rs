//! The client: one Engine.IO session, decoded into Socket.IO packets and dispatched to the sockets it
//! holds, one per namespace. One task per client runs [`run`]; handlers run on it, in arrival order.

use std::panic::AssertUnwindSafe;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use engineio::{CloseReason, Connection, Receiver};
use futures_util::FutureExt;
use socketio_codec::{Packet, PacketKind, ProtocolVersion, Value, split_query};

use crate::{
    handshake::Handshake,
    id::random_id,
    namespace::Namespace,
    reason::DisconnectReason,
    server::ServerInner,
    socket::Socket,
    wire::{Frames, Reader, Wire},
};

/// What the sockets of one connection share.
pub(crate) struct ClientShared {
    pub(crate) sender: engineio::Sender,
    pub(crate) version: ProtocolVersion,
    /// How packets are encoded on this connection.
    pub(crate) wire: Wire,
    /// Whether connection state recovery is on (emits then go through the adapter to get offsets).
    pub(crate) recovery: bool,
    engine_sid: Arc<str>,
    handshake: Arc<engineio::Handshake>,
    sockets: Mutex<HashMap<Arc<str>, Socket>>,
}

impl ClientShared {
    fn socket(&self, nsp: &str) -> Option<Socket> {
        self.sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(nsp)
            .cloned()
    }

    fn insert(&self, nsp: &str, socket: Socket) {
        self.sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(nsp.into(), socket);
    }

    pub(crate) fn remove(&self, nsp: &str) {
        self.sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(nsp);
    }

    fn take_sockets(&self) -> Vec<Socket> {
        self.sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, s)| s)
            .collect()
    }

    fn send_packet(&self, packet: &Packet) {
        self.send_frames(&self.wire.encode(packet));
    }

    pub(crate) fn send_frames(&self, frames: &Frames) {
        // A closed session is noticed by the connection task, which disconnects the sockets.
        let _ = self.sender.send_all(frames.messages());
    }

    /// Every socket leaves for `reason`.
    fn close_sockets(&self, reason: DisconnectReason) {
        for socket in self.take_sockets() {
            socket.on_close(reason);
        }
    }

    /// The server ends the whole connection: sockets leave, then the transport closes.
    fn close(&self, reason: DisconnectReason) {
        self.close_sockets(reason);
        self.sender.close(CloseReason::ForcedClose);
    }

    /// `disconnect(true)`: every namespace gets a DISCONNECT, then the transport closes.
    pub(crate) fn disconnect_all(&self) {
        for socket in self.take_sockets() {
            socket.disconnect(false);
        }
        self.sender.close(CloseReason::ForcedClose);
    }

    /// Closes the transport once what is queued has gone, with no DISCONNECT: the client reconnects.
    pub(crate) fn close_transport(&self) {
        self.sender.close(CloseReason::ForcedClose);
    }
}

/// Serves one Engine.IO connection until it closes.
pub(crate) async fn run(server: Arc<ServerInner>, conn: Connection) {
    let handshake = conn.handshake_arc();
    let engine_sid: Arc<str> = conn.sid().into();
    let version = match handshake.protocol {
        engineio::ProtocolVersion::V3 => ProtocolVersion::V4,
        engineio::ProtocolVersion::V4 => ProtocolVersion::V5,
    };
    let wire = Wire::new(server.config.parser, version);
    let (sender, mut receiver) = conn.into_parts();
    let client = Arc::new(ClientShared {
        sender,
        version,
        wire,
        recovery: server.config.recovery.is_some(),
        engine_sid,
        handshake,
        sockets: Mutex::new(HashMap::new()),
    });
    let mut reader = Reader::new(wire, server.config.limits.clone());

    // Handlers and middlewares run on this task: one that panics must end this
    // connection cleanly (sockets disconnected, transport closed) and nothing else.
    let served = AssertUnwindSafe(serve(&server, &client, &mut receiver, &mut reader))
        .catch_unwind()
        .await;
    let reason = match served {
        Ok(()) => receiver
            .close_reason()
            .map_or(DisconnectReason::TransportClose, Into::into),
        Err(_) => {
            tracing::error!(sid = %client.engine_sid, "a handler panicked: closing its connection");
            client.sender.close_now(CloseReason::ForcedClose);
            DisconnectReason::ForcedClose
        }
    };
    client.close_sockets(reason);
}

/// How many WebSocket wakes a burst of handled messages must hold before it waits for one more
/// poll of the runtime's IO (a broadcast to a room of this size or more); smaller bursts (an ack,
/// an echo) are written at once.
const COALESCE_WAKES: usize = 16;

/// How many messages one burst handles at most before the wakes it holds are sent and the task
/// yields (tokio's own budget for a task's IO between yields is 128 operations).
const MAX_BURST: usize = 128;

/// Reads and dispatches the client's packets until the session ends.
async fn serve(
    server: &Arc<ServerInner>,
    client: &Arc<ClientShared>,
    receiver: &mut Receiver,
    reader: &mut Reader,
) {
    let version = client.version;
    // Protocol v4 clients never send CONNECT for the main namespace: the server connects them.
    if version == ProtocolVersion::V4 {
        // Boxed, as below: the connect path (middlewares) is large and runs once per namespace,
        // while the connection's future lives as long as the connection.
        Box::pin(connect(server, client, "/", Value::Object(Vec::new()))).await;
    }

    // "a client must connect to a namespace within connectTimeout, or the connection is closed".
    // The timer is boxed and dropped once a namespace is joined: this future lives as long as
    // the connection, and most of that life comes after the connect.
    let mut connect_deadline = Some(Box::pin(tokio::time::sleep(server.config.connect_timeout)));

    // The WebSocket wakes the handlers cause are held while messages already received are
    // handled, and sent once the burst is done: each recipient then writes the whole burst at
    // once (see `engineio::WakeBatch`).
    let mut wakes = engineio::WakeBatch::default();
    let mut yielded = false;
    let mut burst = 0usize;
    loop {
        let message = if wakes.len() >= COALESCE_WAKES {
            match receiver.try_recv() {
                Some(message) if burst < MAX_BURST => {
                    burst += 1;
                    Some(Some(message))
                }
                Some(message) => {
                    // A client that never lets its queue run dry must not hold the others'
                    // writes back, nor keep this thread to itself.
                    wakes.flush();
                    tokio::task::yield_now().await;
                    Some(Some(message))
                }
                None if !yielded => {
                    // Lets the runtime poll for IO once before the woken sockets write: the rest
                    // of a burst still arriving is read and handled first, and goes out in the
                    // same writes.
                    yielded = true;
                    tokio::task::yield_now().await;
                    continue;
                }
                None => {
                    wakes.flush();
                    continue;
                }
            }
        } else {
            // Nothing worth holding: what handlers queued is written at once.
            wakes.flush();
            (burst, yielded) = (0, false);
            let deadline = async {
                match connect_deadline.as_mut() {
                    Some(sleep) => sleep.as_mut().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                message = receiver.recv() => Some(message),
                () = deadline => None,
            }
        };
        let Some(message) = message else {
            connect_deadline = None;
            if client
                .sockets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
            {
                tracing::debug!(sid = %client.engine_sid, "no namespace joined in time");
                client.close(DisconnectReason::ForcedServerClose);
            }
            continue;
        };
        let Some(message) = message else { break };
        match reader.read(message) {
            Ok(Some(packet)) => {
                // Boxed, as above: the connect path is large and runs once per namespace.
                if let Some((name, auth)) = wakes.collect(|| dispatch(client, packet)) {
                    wakes.flush();
                    Box::pin(connect(server, client, &name, auth)).await;
                }
                if connect_deadline.is_some()
                    && !client
                        .sockets
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .is_empty()
                {
                    connect_deadline = None;
                }
            }
            Ok(None) => {}
            Err(error) => {
                // The reference closes the Engine.IO session on a packet its decoder refuses; the
                // sockets see the session's own reason for a server-side close, `forced close`.
                tracing::debug!(sid = %client.engine_sid, %error, "invalid packet, closing");
                client.close(DisconnectReason::ForcedClose);
            }
        }
    }
}

/// Hands a packet to its socket; a CONNECT to a namespace not joined yet is returned, as the
/// namespace and auth to connect with.
fn dispatch(client: &Arc<ClientShared>, packet: Packet) -> Option<(String, Value)> {
    tracing::trace!(
        sid = %client.engine_sid,
        nsp = %packet.nsp,
        kind = packet.type_digit(),
        id = ?packet.id,
        "packet received"
    );
    let (name, query) = match client.version {
        ProtocolVersion::V4 => split_query(&packet.nsp),
        ProtocolVersion::V5 => (packet.nsp.as_str(), None),
    };
    let socket = client.socket(name);
    match (packet.kind, socket) {
        (PacketKind::Connect(data), None) => {
            let auth = match client.version {
                ProtocolVersion::V4 => query_object(query.unwrap_or("")),
                ProtocolVersion::V5 => data.unwrap_or(Value::Object(Vec::new())),
            };
            Some((name.to_owned(), auth))
        }
        (kind @ (PacketKind::Event(_) | PacketKind::Ack(_) | PacketKind::Disconnect), Some(s)) => {
            s.on_packet(Packet {
                kind,
                nsp: packet.nsp,
                id: packet.id,
            });
            None
        }
        // A CONNECT to a namespace already joined, a CONNECT_ERROR from a client, or a packet for a
        // namespace not joined: the reference treats each as an invalid state and closes.
        _ => {
            tracing::debug!(sid = %client.engine_sid, nsp = %packet.nsp, "packet in an invalid state, closing");
            // The reference closes the Engine.IO session first, and over WebSocket that close
            // reaches the sockets, with the session's reason, before its own `forced server close`.
            client.close(DisconnectReason::ForcedClose);
            None
        }
    }
}

/// Joins the client to namespace `name`: recovery, middlewares, CONNECT reply, connection handlers.
async fn connect(server: &Arc<ServerInner>, client: &Arc<ClientShared>, name: &str, auth: Value) {
    let Some(nsp) = server.namespace_for(name, &auth) else {
        // The reference writes `{"message":"Invalid namespace"}` for every protocol, socket.io 2.x
        // clients included (only middleware refusals are bare for them); the v5 encoding of a
        // CONNECT_ERROR is exactly that object.
        let refusal = Packet::connect_error(name, "Invalid namespace", None);
        let wire = if client.wire == Wire::V4 {
            Wire::V5
        } else {
            client.wire
        };
        client.send_frames(&wire.encode(&refusal));
        return;
    };

    let restored = match (&server.config.recovery, recovery_keys(&auth)) {
        (Some(_), Some((pid, offset))) => nsp.adapter().restore_session(pid, offset).await,
        _ => None,
    };
    let recovered = restored.is_some();
    let (socket, rooms, missed) = match restored {
        Some(session) => {
            let state = session.state;
            let socket = new_socket(
                client,
                &nsp,
                state.sid,
                Some(state.pid),
                auth,
                true,
                state.data,
            );
            (socket, state.rooms, session.missed)
        }
        None => {
            let id: Arc<str> = match client.version {
                // The reference derives v4 socket ids from the Engine.IO id.
                ProtocolVersion::V4 if name == "/" => client.engine_sid.clone(),
                ProtocolVersion::V4 => format!("{name}#{}", client.engine_sid).into(),
                ProtocolVersion::V5 => random_id().into(),
            };
            let pid = server
                .config
                .recovery
                .as_ref()
                .map(|_| Arc::from(random_id()));
            // An empty object, as the reference's `socket.data` starts.
            let data = serde_json::Value::Object(serde_json::Map::new());
            let socket = new_socket(client, &nsp, id, pid, auth, false, data);
            (socket, Vec::new(), Vec::new())
        }
    };

    let skip = recovered
        && server
            .config
            .recovery
            .as_ref()
            .is_some_and(|r| r.skip_middlewares);
    if !skip {
        if let Err(err) = nsp.0.handlers.run_middlewares(&socket).await {
            if client.sender.is_closed() {
                return;
            }
            // Encoded for protocol v4, this becomes the bare `data || message` of the reference.
            client.send_packet(&Packet::connect_error(name, &err.message, err.data));
            return;
        }
    }
    if client.sender.is_closed() {
        return;
    }

    nsp.add_socket(socket.clone());
    client.insert(name, socket.clone());
    socket.set_connected();
    socket.join(socket.id().clone());
    socket.join_all(&rooms);

    let reply = match client.version {
        ProtocolVersion::V4 => Packet::connect(name, None),
        ProtocolVersion::V5 => {
            let mut fields = vec![("sid".to_owned(), Value::String(socket.id().to_string()))];
            if let Some(pid) = socket.pid() {
                fields.push(("pid".to_owned(), Value::String(pid.to_string())));
            }
            Packet::connect(name, Some(Value::Object(fields)))
        }
    };
    socket.send_packet(&reply);
    for packet in &missed {
        socket.send_packet(packet);
    }
    nsp.0.handlers.fire_connection(&socket);
}

fn new_socket(
    client: &Arc<ClientShared>,
    nsp: &Namespace,
    id: Arc<str>,
    pid: Option<Arc<str>>,
    auth: Value,
    recovered: bool,
    data: serde_json::Value,
) -> Socket {
    let handshake = Handshake::new(client.handshake.clone(), auth);
    Socket::new(
        id,
        pid,
        nsp.clone(),
        client.clone(),
        handshake,
        recovered,
        data,
    )
}

/// The `pid` and `offset` a reconnecting client puts in its auth payload.
fn recovery_keys(auth: &Value) -> Option<(&str, &str)> {
    let Value::Object(fields) = auth else {
        return None;
    };
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_str())
    };
    Some((get("pid")?, get("offset")?))
}

/// A query string as an object of strings, as protocol v4 carries a namespace's auth. A repeated
/// key keeps its first position and its last value, as `Object.fromEntries(URLSearchParams)`.
fn query_object(query: &str) -> Value {
    let mut fields: Vec<(String, Value)> = Vec::new();
    for (key, value) in engineio::parse_query(query) {
        let value = Value::String(value);
        match fields.iter_mut().find(|(k, _)| *k == key) {
            Some(field) => field.1 = value,
            None => fields.push((key, value)),
        }
    }
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_auth_is_decoded() {
        let v = query_object("token=a%20b&x=1+2&flag&token=c");
        let expected = Value::Object(vec![
            ("token".into(), Value::String("c".into())),
            ("x".into(), Value::String("1 2".into())),
            ("flag".into(), Value::String(String::new())),
        ]);
        assert_eq!(v, expected);
    }

    #[test]
    fn truncated_percent_escape_is_kept() {
        let v = query_object("a=a%2&b=%zz&c=%41");
        let expected = Value::Object(vec![
            ("a".into(), Value::String("a%2".into())),
            ("b".into(), Value::String("%zz".into())),
            ("c".into(), Value::String("A".into())),
        ]);
        assert_eq!(v, expected);
    }

    #[test]
    fn recovery_keys_need_both_strings() {
        let auth = Value::Object(vec![
            ("pid".into(), Value::String("p".into())),
            ("offset".into(), Value::String("o".into())),
        ]);
        assert_eq!(recovery_keys(&auth), Some(("p", "o")));
        let auth = Value::Object(vec![("pid".into(), Value::String("p".into()))]);
        assert_eq!(recovery_keys(&auth), None);
    }
}
