//! The adapter of one namespace: the in-memory adapter for this node's sockets, plus what it
//! sends through Redis to the other nodes and how it waits for their answers. What arrives from
//! them is handled in `incoming.rs`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use socketio_codec::{Packet, Value};
use socketio_server::{
    Adapter, BroadcastOptions, InMemoryAdapter, NamespaceRef, RecoveryConfig, Room, Sid,
    adapter::{BoxFuture, RestoredSession, SessionState, SocketInfo},
};
use tokio::sync::mpsc;
use tracing::warn;

use crate::{
    RedisAdapterConfig,
    channels::{Channels, random_id},
    link::Link,
    message::{self, kind, object},
};

/// The state shared by a [`RedisAdapter`] and the subscriber that hands it messages.
pub(crate) struct Node {
    /// This node's sockets and rooms.
    pub(crate) local: InMemoryAdapter,
    pub(crate) nsp: NamespaceRef,
    /// This node's id on the namespace's channels.
    pub(crate) uid: String,
    pub(crate) channels: Channels,
    pub(crate) link: Arc<Link>,
    pub(crate) config: Arc<RedisAdapterConfig>,
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
    pub(crate) fn pending(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<Value>>> {
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

    /// Asks the other nodes to make the sockets `opts` targets join (or leave) `rooms`; nothing
    /// for a `local` operation.
    fn request_rooms(&self, request_kind: u64, opts: &BroadcastOptions, rooms: &[Room]) {
        if opts.flags.local {
            return;
        }
        let request = self.request(vec![
            ("type", Value::from(request_kind)),
            ("opts", message::target_value(opts)),
            ("rooms", message::room_list(rooms)),
        ]);
        self.publish_request(message::json(&request));
    }

    /// Publishes a response where the requesting node listens.
    pub(crate) fn respond(&self, request: &Value, payload: Bytes) {
        let channel = match request.get("uid").and_then(Value::as_str) {
            Some(uid) if self.config.publish_on_specific_response_channel => {
                format!("{}{uid}#", self.channels.response)
            }
            _ => self.channels.response.clone(),
        };
        self.link.publish(channel, payload);
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
        self.node.request_rooms(kind::REMOTE_JOIN, opts, rooms);
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.node.local.del_sockets(opts, rooms);
        self.node.request_rooms(kind::REMOTE_LEAVE, opts, rooms);
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
