//! The adapter of one namespace: the in-memory adapter for this node's sockets, plus what goes
//! through Redis to and from the other nodes of the cluster.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use rand::{Rng, distr::Alphanumeric};
use socketio_codec::{Packet, Value};
use socketio_server::{
    Adapter, BroadcastOptions, InMemoryAdapter, NamespaceRef, RecoveryConfig, Room, ServerSideAck,
    Sid,
    adapter::{BoxFuture, RestoredSession, SessionState, SocketInfo},
};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::{
    RedisAdapterConfig,
    link::{Link, Topic},
    message::{self, MessageError, kind, object},
};

/// The channels of one namespace, named as the reference adapter names them.
#[derive(Debug)]
pub(crate) struct Channels {
    /// `<key>#<nsp>#`: broadcasts to every socket; `<key>#<nsp>#<room>#` to one room.
    pub(crate) broadcast: String,
    /// `<key>-request#<nsp>#`: requests to every node.
    pub(crate) request: String,
    /// `<key>-response#<nsp>#`: responses, by default.
    pub(crate) response: String,
    /// `<key>-response#<nsp>#<uid>#`: responses meant for this node alone.
    pub(crate) specific_response: String,
}

impl Channels {
    pub(crate) fn new(key: &str, nsp: &str, uid: &str) -> Channels {
        let response = format!("{key}-response#{nsp}#");
        Channels {
            broadcast: format!("{key}#{nsp}#"),
            request: format!("{key}-request#{nsp}#"),
            specific_response: format!("{response}{uid}#"),
            response,
        }
    }

    fn topics(&self) -> Vec<Topic> {
        vec![
            Topic::Pattern(format!("{}*", self.broadcast)),
            Topic::Channel(self.request.clone()),
            Topic::Channel(self.response.clone()),
            Topic::Channel(self.specific_response.clone()),
        ]
    }

    /// Where a broadcast goes: the room's own channel when it addresses exactly one room.
    pub(crate) fn broadcast_to(&self, opts: &BroadcastOptions) -> String {
        match (opts.rooms.len(), opts.rooms.iter().next()) {
            (1, Some(room)) => format!("{}{room}#", self.broadcast),
            _ => self.broadcast.clone(),
        }
    }
}

/// A random id of six letters and digits (the reference draws six URL-safe characters).
pub(crate) fn random_id() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(6)
        .map(char::from)
        .collect()
}

/// The state shared by a [`RedisAdapter`] and the subscriber that hands it messages.
pub(crate) struct Node {
    local: InMemoryAdapter,
    nsp: NamespaceRef,
    uid: String,
    channels: Channels,
    link: Arc<Link>,
    config: Arc<RedisAdapterConfig>,
    /// Requests of this node waiting for responses, by request id.
    pending: Mutex<HashMap<String, mpsc::UnboundedSender<Value>>>,
}

/// The Redis adapter of one namespace. Built by [`RedisCluster::factory`](crate::RedisCluster::factory).
pub struct RedisAdapter {
    node: Arc<Node>,
}

impl std::fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("nsp", &self.node.nsp.name())
            .field("uid", &self.node.uid)
            .finish_non_exhaustive()
    }
}

impl RedisAdapter {
    pub(crate) fn new(
        nsp: NamespaceRef,
        recovery: Option<RecoveryConfig>,
        link: Arc<Link>,
        config: Arc<RedisAdapterConfig>,
    ) -> RedisAdapter {
        let uid = random_id();
        let channels = Channels::new(&config.key, nsp.name(), &uid);
        let topics = channels.topics();
        let node = Arc::new(Node {
            local: InMemoryAdapter::new(nsp.clone(), recovery),
            nsp,
            uid,
            channels,
            link,
            config,
            pending: Mutex::new(HashMap::new()),
        });
        node.link.register(topics, &Arc::downgrade(&node));
        RedisAdapter { node }
    }

    /// This node's id in the cluster (six letters and digits, new for every namespace).
    pub fn uid(&self) -> &str {
        &self.node.uid
    }
}

impl Drop for RedisAdapter {
    fn drop(&mut self) {
        let node = Arc::downgrade(&self.node);
        self.node
            .link
            .unregister(&self.node.channels.topics(), &node);
    }
}

/// A request of this node, removed from the pending table when dropped.
struct Pending {
    node: Arc<Node>,
    id: String,
    responses: mpsc::UnboundedReceiver<Value>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.node.pending().remove(&self.id);
    }
}

impl Pending {
    /// The next response, or `None` once `deadline` passed.
    async fn next(&mut self, deadline: tokio::time::Instant) -> Option<Value> {
        tokio::time::timeout_at(deadline, self.responses.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Node {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<Value>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn open_request(self: &Arc<Self>) -> Pending {
        let (tx, responses) = mpsc::unbounded_channel();
        let id = random_id();
        self.pending().insert(id.clone(), tx);
        Pending {
            node: self.clone(),
            id,
            responses,
        }
    }

    fn deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::now() + self.config.request_timeout
    }

    /// How many nodes listen on this namespace's request channel; 1 (this node) when Redis
    /// cannot say.
    async fn server_count(&self) -> usize {
        match self.link.numsub(&self.channels.request).await {
            Ok(n) => n.max(1),
            Err(e) => {
                warn!(error = %e, nsp = self.nsp.name(), "PUBSUB NUMSUB failed; counting this node alone");
                1
            }
        }
    }

    fn request(&self, fields: Vec<(&str, Value)>) -> Value {
        let mut all = vec![("uid", Value::from(self.uid.as_str()))];
        all.extend(fields);
        object(all)
    }

    fn publish_request(&self, payload: Bytes) {
        self.link.publish(self.channels.request.clone(), payload);
    }

    /// Publishes a response where the requesting node listens.
    fn respond(&self, request: &Value, payload: Bytes) {
        let channel = match request.get("uid").and_then(Value::as_str) {
            Some(uid) if self.config.publish_on_specific_response_channel => {
                format!("{}{uid}#", self.channels.response)
            }
            _ => self.channels.response.clone(),
        };
        self.link.publish(channel, payload);
    }

    /// A broadcast published by another node.
    pub(crate) fn on_broadcast(&self, channel: &str, payload: Bytes) {
        if !channel.starts_with(&self.channels.broadcast) {
            return;
        }
        let broadcast = match message::decode_broadcast(payload) {
            Ok(b) => b,
            Err(e) => {
                warn!(error = %e, %channel, "malformed broadcast from redis dropped");
                return;
            }
        };
        if broadcast.uid == self.uid || broadcast.packet.nsp != self.nsp.name() {
            return;
        }
        self.local.broadcast(broadcast.packet, &broadcast.opts);
    }

    /// A request or a response on one of this namespace's channels.
    pub(crate) fn on_request_or_response(self: &Arc<Self>, channel: &str, payload: Bytes) {
        let result = if channel == self.channels.request {
            self.on_request(payload)
        } else if channel == self.channels.response || channel == self.channels.specific_response {
            self.on_response(payload)
        } else {
            Ok(())
        };
        if let Err(e) = result {
            warn!(error = %e, %channel, "malformed message from redis dropped");
        }
    }

    fn on_response(&self, payload: Bytes) -> Result<(), MessageError> {
        let response = message::decode_object(payload)?;
        let Some(id) = response.get("requestId").and_then(Value::as_str) else {
            return Err(MessageError::Malformed("response without requestId"));
        };
        let waiting = self.pending().get(id).cloned();
        if let Some(tx) = waiting {
            let _ = tx.send(response);
        }
        Ok(())
    }

    fn on_request(self: &Arc<Self>, payload: Bytes) -> Result<(), MessageError> {
        let request = message::decode_object(payload)?;
        // This node applied its own requests locally when it sent them.
        if request.get("uid").and_then(Value::as_str) == Some(self.uid.as_str()) {
            return Ok(());
        }
        let Some(ty) = request.get("type").and_then(Value::as_u64) else {
            return Err(MessageError::Malformed("request without a type"));
        };
        let request_id = request.get("requestId").cloned().unwrap_or(Value::Null);
        let opts = || message::opts_from_value(request.get("opts"));
        let reply = |fields: Vec<(&str, Value)>| {
            let mut all = vec![("requestId", request_id.clone())];
            all.extend(fields);
            self.respond(&request, message::json(&object(all)));
        };
        match ty {
            kind::SOCKETS => {
                let opts = BroadcastOptions {
                    rooms: message::room_list_from(request.get("rooms"))?
                        .into_iter()
                        .collect(),
                    ..Default::default()
                };
                let ids = self.local.local_sockets(&opts);
                reply(vec![("sockets", message::room_list(&ids))]);
            }
            kind::ALL_ROOMS => {
                reply(vec![("rooms", message::room_list(&self.local.rooms()))]);
            }
            kind::REMOTE_JOIN | kind::REMOTE_LEAVE | kind::REMOTE_DISCONNECT
                if request.get("opts").is_some() =>
            {
                let opts = opts()?;
                let rooms = message::room_list_from(request.get("rooms"))?;
                match ty {
                    kind::REMOTE_JOIN => self.local.add_sockets(&opts, &rooms),
                    kind::REMOTE_LEAVE => self.local.del_sockets(&opts, &rooms),
                    _ => {
                        let close = request.get("close").and_then(Value::as_bool);
                        self.local.disconnect_sockets(&opts, close.unwrap_or(false));
                    }
                }
            }
            kind::REMOTE_JOIN | kind::REMOTE_LEAVE | kind::REMOTE_DISCONNECT => {
                // The older form: one socket by id, answered when it is here.
                let socket = request
                    .get("sid")
                    .and_then(Value::as_str)
                    .and_then(|sid| self.nsp.upgrade()?.socket(sid));
                let Some(socket) = socket else {
                    return Ok(());
                };
                let room = request.get("room").and_then(Value::as_str).unwrap_or("");
                match ty {
                    kind::REMOTE_JOIN => socket.join(room),
                    kind::REMOTE_LEAVE => socket.leave(room),
                    _ => {
                        let close = request.get("close").and_then(Value::as_bool);
                        socket.disconnect(close.unwrap_or(false));
                    }
                }
                reply(vec![]);
            }
            kind::REMOTE_FETCH => {
                let opts = opts()?;
                let sockets = self.local_socket_details(&opts);
                reply(vec![("sockets", Value::Array(sockets))]);
            }
            kind::SERVER_SIDE_EMIT => self.on_server_side_emit(&request)?,
            kind::BROADCAST => self.on_broadcast_with_ack(&request, opts()?)?,
            other => debug!(request_type = other, "unknown redis request type ignored"),
        }
        Ok(())
    }

    /// Another node's server-side emit, handed to the namespace's handlers; with a request id,
    /// the first answer goes back on the shared response channel, as the reference sends it.
    fn on_server_side_emit(&self, request: &Value) -> Result<(), MessageError> {
        let Some(args) = request.get("data").and_then(Value::as_array) else {
            return Err(MessageError::Malformed(
                "server-side emit without a data list",
            ));
        };
        let Some(nsp) = self.nsp.upgrade() else {
            return Ok(());
        };
        let ack = request.get("requestId").cloned().map(|request_id| {
            let link = self.link.clone();
            let channel = self.channels.response.clone();
            ServerSideAck::new(move |answer| {
                let response = object(vec![
                    ("type", Value::from(kind::SERVER_SIDE_EMIT)),
                    ("requestId", request_id),
                    ("data", answer),
                ]);
                link.publish(channel, message::json(&response));
            })
        });
        if !nsp.handle_server_side_emit(args.to_vec(), ack) {
            debug!(
                nsp = nsp.name(),
                "server-side emit with no handler here dropped"
            );
        }
        Ok(())
    }

    /// Another node's broadcast with acknowledgements: delivered here under a local ack id; the
    /// count, then each answer, go back to that node.
    fn on_broadcast_with_ack(
        self: &Arc<Self>,
        request: &Value,
        opts: BroadcastOptions,
    ) -> Result<(), MessageError> {
        let request_id = request.get("requestId").cloned().unwrap_or(Value::Null);
        let mut packet = request
            .get("packet")
            .ok_or(MessageError::Malformed(
                "broadcast request without a packet",
            ))
            .and_then(message::packet_from_value)?;
        let Some(nsp) = self.nsp.upgrade() else {
            return Ok(());
        };
        if packet.nsp != nsp.name() {
            return Ok(());
        }
        packet.id = Some(nsp.next_ack_id());
        let (tx, mut answers) = mpsc::unbounded_channel();
        let count = self.local.broadcast_with_ack(packet, &opts, tx);
        let node = self.clone();
        let request = request.clone();
        let wait = opts.flags.timeout.unwrap_or(self.config.request_timeout);
        tokio::spawn(async move {
            let count = count.await;
            let counted = object(vec![
                ("type", Value::from(kind::BROADCAST_CLIENT_COUNT)),
                ("requestId", request_id.clone()),
                ("clientCount", Value::from(count as u64)),
            ]);
            node.respond(&request, message::json(&counted));
            let deadline = tokio::time::Instant::now() + wait;
            for _ in 0..count {
                let Ok(Some(args)) = tokio::time::timeout_at(deadline, answers.recv()).await else {
                    break;
                };
                // The reference passes each client's first argument along.
                let answer = object(vec![
                    ("type", Value::from(kind::BROADCAST_ACK)),
                    ("requestId", request_id.clone()),
                    ("packet", args.into_iter().next().unwrap_or(Value::Null)),
                ]);
                node.respond(&request, message::msgpack(&answer));
            }
        });
        Ok(())
    }

    /// What a fetch from another node learns of each addressed local socket.
    fn local_socket_details(&self, opts: &BroadcastOptions) -> Vec<Value> {
        let Some(nsp) = self.nsp.upgrade() else {
            return Vec::new();
        };
        self.local
            .local_sockets(opts)
            .into_iter()
            .filter_map(|id| nsp.socket(&id))
            .map(|socket| {
                object(vec![
                    ("id", Value::from(&**socket.id())),
                    ("handshake", crate::handshake::describe(socket.handshake())),
                    ("rooms", message::room_list(&socket.rooms())),
                    ("data", Value::from(socket.data())),
                ])
            })
            .collect()
    }
}

/// A socket of another node, as a fetch response describes it.
fn remote_socket(value: &Value) -> Option<SocketInfo> {
    let id = value.get("id")?.as_str()?;
    let rooms = message::room_list_from(value.get("rooms")).ok()?;
    Some(SocketInfo {
        id: Sid::from(id),
        rooms,
        data: value.get("data").map(Value::to_json).unwrap_or_default(),
        local: None,
    })
}

impl Adapter for RedisAdapter {
    fn add_all(&self, id: &Sid, rooms: &[Room]) {
        self.node.local.add_all(id, rooms);
    }

    fn del(&self, id: &Sid, room: &str) {
        self.node.local.del(id, room);
    }

    fn del_all(&self, id: &Sid) {
        self.node.local.del_all(id);
    }

    fn socket_rooms(&self, id: &Sid) -> Vec<Room> {
        self.node.local.socket_rooms(id)
    }

    fn rooms(&self) -> Vec<Room> {
        self.node.local.rooms()
    }

    fn local_sockets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.node.local.local_sockets(opts)
    }

    fn broadcast(&self, packet: Packet, opts: &BroadcastOptions) {
        let node = &self.node;
        if !opts.flags.local {
            let payload = message::encode_broadcast(&node.uid, &packet, opts);
            node.link.publish(node.channels.broadcast_to(opts), payload);
        }
        node.local.broadcast(packet, opts);
    }

    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: &BroadcastOptions,
        answers: mpsc::UnboundedSender<Vec<Value>>,
    ) -> BoxFuture<usize> {
        let node = self.node.clone();
        if opts.flags.local {
            return node.local.broadcast_with_ack(packet, opts, answers);
        }
        let mut pending = node.open_request();
        let request = object(vec![
            ("uid", Value::from(node.uid.as_str())),
            ("requestId", Value::from(pending.id.as_str())),
            ("type", Value::from(kind::BROADCAST)),
            ("packet", message::packet_value(&packet)),
            ("opts", message::opts_value(opts)),
        ]);
        node.publish_request(message::msgpack(&request));
        let local = node.local.broadcast_with_ack(packet, opts, answers.clone());

        // One task relays the other nodes' counts and answers until the broadcast's timeout (the
        // request timeout without one); the count resolves once every other node gave its own.
        let wait = opts.flags.timeout.unwrap_or(node.config.request_timeout);
        let (count_tx, count_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + wait;
            let others = node.server_count().await.saturating_sub(1);
            let mut count_tx = Some(count_tx);
            let (mut counted, mut clients) = (0, 0usize);
            if others == 0 {
                let _ = count_tx.take().map(|tx| tx.send(0));
            }
            while let Some(response) = pending.next(deadline).await {
                match response.get("type").and_then(Value::as_u64) {
                    Some(kind::BROADCAST_CLIENT_COUNT) => {
                        let n = response.get("clientCount").and_then(Value::as_u64);
                        clients += n.unwrap_or(0) as usize;
                        counted += 1;
                        if counted >= others {
                            let _ = count_tx.take().map(|tx| tx.send(clients));
                        }
                    }
                    Some(kind::BROADCAST_ACK) => {
                        let answer = response.get("packet").cloned().unwrap_or(Value::Null);
                        let _ = answers.send(vec![answer]);
                    }
                    _ => {}
                }
            }
            // Past the deadline: the nodes that did not say how many they reached count for none.
            if let Some(tx) = count_tx {
                let _ = tx.send(clients);
            }
        });
        Box::pin(async move { local.await + count_rx.await.unwrap_or(0) })
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> BoxFuture<Vec<SocketInfo>> {
        let local = self.node.local.fetch_sockets(opts);
        if opts.flags.local {
            return local;
        }
        let node = self.node.clone();
        let target = message::target_value(opts);
        Box::pin(async move {
            let mut sockets = local.await;
            let others = node.server_count().await - 1;
            if others == 0 {
                return sockets;
            }
            let mut pending = node.open_request();
            let request = node.request(vec![
                ("requestId", Value::from(pending.id.as_str())),
                ("type", Value::from(kind::REMOTE_FETCH)),
                ("opts", target),
            ]);
            node.publish_request(message::json(&request));
            let deadline = node.deadline();
            let mut answered = 0;
            while answered < others {
                let Some(response) = pending.next(deadline).await else {
                    warn!(
                        nsp = node.nsp.name(),
                        answered, others, "fetch_sockets: timed out waiting for other nodes"
                    );
                    break;
                };
                answered += 1;
                let remote = response.get("sockets").and_then(Value::as_array);
                sockets.extend(remote.unwrap_or_default().iter().filter_map(remote_socket));
            }
            sockets
        })
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.node.local.add_sockets(opts, rooms);
        if !opts.flags.local {
            let request = self.node.request(vec![
                ("type", Value::from(kind::REMOTE_JOIN)),
                ("opts", message::target_value(opts)),
                ("rooms", message::room_list(rooms)),
            ]);
            self.node.publish_request(message::json(&request));
        }
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.node.local.del_sockets(opts, rooms);
        if !opts.flags.local {
            let request = self.node.request(vec![
                ("type", Value::from(kind::REMOTE_LEAVE)),
                ("opts", message::target_value(opts)),
                ("rooms", message::room_list(rooms)),
            ]);
            self.node.publish_request(message::json(&request));
        }
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        self.node.local.disconnect_sockets(opts, close);
        if !opts.flags.local {
            let request = self.node.request(vec![
                ("type", Value::from(kind::REMOTE_DISCONNECT)),
                ("opts", message::target_value(opts)),
                ("close", Value::Bool(close)),
            ]);
            self.node.publish_request(message::json(&request));
        }
    }

    fn server_side_emit(&self, args: Vec<Value>, ack: bool) -> BoxFuture<Vec<Vec<Value>>> {
        let node = self.node.clone();
        if !ack {
            let request = node.request(vec![
                ("type", Value::from(kind::SERVER_SIDE_EMIT)),
                ("data", Value::Array(args)),
            ]);
            node.publish_request(message::json(&request));
            return Box::pin(async { Vec::new() });
        }
        Box::pin(async move {
            let others = node.server_count().await - 1;
            if others == 0 {
                return Vec::new();
            }
            let mut pending = node.open_request();
            let request = node.request(vec![
                ("requestId", Value::from(pending.id.as_str())),
                ("type", Value::from(kind::SERVER_SIDE_EMIT)),
                ("data", Value::Array(args)),
            ]);
            node.publish_request(message::json(&request));
            let deadline = node.deadline();
            let mut answers = Vec::new();
            while answers.len() < others {
                let Some(response) = pending.next(deadline).await else {
                    warn!(
                        nsp = node.nsp.name(),
                        answered = answers.len(),
                        others,
                        "server_side_emit: timed out waiting for other nodes"
                    );
                    break;
                };
                answers.push(vec![response.get("data").cloned().unwrap_or(Value::Null)]);
            }
            answers
        })
    }

    fn server_count(&self) -> BoxFuture<usize> {
        let node = self.node.clone();
        Box::pin(async move { node.server_count().await })
    }

    fn persist_session(&self, session: SessionState) {
        self.node.local.persist_session(session);
    }

    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>> {
        self.node.local.restore_session(pid, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_follow_the_reference() {
        let c = Channels::new("socket.io", "/chat", "AbC123");
        assert_eq!(c.broadcast, "socket.io#/chat#");
        assert_eq!(c.request, "socket.io-request#/chat#");
        assert_eq!(c.response, "socket.io-response#/chat#");
        assert_eq!(c.specific_response, "socket.io-response#/chat#AbC123#");
        let mut opts = BroadcastOptions::default();
        assert_eq!(c.broadcast_to(&opts), "socket.io#/chat#");
        opts.rooms.insert(Room::from("r1"));
        assert_eq!(c.broadcast_to(&opts), "socket.io#/chat#r1#");
        opts.rooms.insert(Room::from("r2"));
        assert_eq!(c.broadcast_to(&opts), "socket.io#/chat#");
    }

    #[test]
    fn ids_are_six_letters_or_digits() {
        let id = random_id();
        assert_eq!(id.len(), 6);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(random_id(), random_id());
    }

    #[test]
    fn remote_sockets_need_an_id() {
        let v = object(vec![
            ("id", Value::from("s1")),
            (
                "rooms",
                Value::Array(vec![Value::from("s1"), Value::from("r")]),
            ),
            ("data", object(vec![("n", Value::from(1u64))])),
        ]);
        let info = remote_socket(&v).expect("a socket");
        assert_eq!(&*info.id, "s1");
        assert_eq!(info.rooms.len(), 2);
        assert_eq!(info.data, serde_json::json!({"n": 1}));
        assert!(info.local.is_none());
        assert!(remote_socket(&object(vec![("rooms", Value::Array(vec![]))])).is_none());
    }
}
