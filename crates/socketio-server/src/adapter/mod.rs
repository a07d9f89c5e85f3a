//! The adapter: who is in which room, and how a broadcast reaches its recipients.
//!
//! Every namespace has one adapter. The server never walks rooms itself: joins, leaves, broadcasts,
//! fetches and remote operations all go through this trait, so an adapter that spans several nodes
//! (Redis) replaces the in-memory one without any change to the server. Operations that may need other
//! nodes return futures; local-only bookkeeping is synchronous.

mod memory;
mod recovery;
mod rooms;

use std::{collections::HashSet, future::Future, pin::Pin, sync::Arc, time::Duration};

use socketio_codec::{Packet, Value};
use tokio::sync::mpsc;

pub use memory::InMemoryAdapter;

use crate::{config::RecoveryConfig, namespace::NamespaceRef, socket::Socket};

/// A room name. Every socket is also in the room named after its own id.
pub type Room = Arc<str>;

/// A socket id (the Socket.IO id, never the Engine.IO session id).
pub type Sid = Arc<str>;

/// A boxed future, as adapter methods that may reach other nodes return.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Whom a broadcast (or a fetch, a join, a disconnect) addresses.
#[derive(Debug, Clone, Default)]
pub struct BroadcastOptions {
    /// Sockets in any of these rooms; empty means every socket of the namespace.
    pub rooms: HashSet<Room>,
    /// Minus the sockets in any of these rooms.
    pub except: HashSet<Room>,
    /// How to deliver.
    pub flags: BroadcastFlags,
}

/// Delivery modifiers of a broadcast.
#[derive(Debug, Clone, Copy, Default)]
pub struct BroadcastFlags {
    /// Drop the packet for recipients whose transport cannot take it right now.
    pub volatile: bool,
    /// Only this node's sockets (no effect with the in-memory adapter).
    pub local: bool,
    /// Ask the transport to compress the packet (where the transport compresses at all).
    pub compress: bool,
    /// How long a broadcast with acknowledgements waits for every answer.
    pub timeout: Option<Duration>,
}

/// What a fetch returns for each matching socket, local or on another node.
#[derive(Debug, Clone)]
pub struct SocketInfo {
    /// The socket's id.
    pub id: Sid,
    /// The rooms it is in.
    pub rooms: Vec<Room>,
    /// Its per-socket data.
    pub data: serde_json::Value,
    /// The socket itself when it lives on this node.
    pub local: Option<Socket>,
}

/// What connection state recovery keeps of a socket that lost its connection.
#[derive(Debug, Clone)]
pub struct SessionState {
    /// The socket's public id, given back on recovery.
    pub sid: Sid,
    /// The private session id the client presents to recover.
    pub pid: Arc<str>,
    /// The rooms the socket was in.
    pub rooms: Vec<Room>,
    /// Its per-socket data.
    pub data: serde_json::Value,
}

/// A session found again, with the event packets the socket missed, oldest first.
#[derive(Debug, Clone)]
pub struct RestoredSession {
    /// The kept state.
    pub state: SessionState,
    /// The missed events, each already carrying its offset as last argument.
    pub missed: Vec<Packet>,
}

/// Room membership and delivery for one namespace. See the module docs.
pub trait Adapter: Send + Sync + 'static {
    /// Puts a socket in these rooms.
    fn add_all(&self, id: &Sid, rooms: &[Room]);
    /// Takes a socket out of one room.
    fn del(&self, id: &Sid, room: &str);
    /// Takes a socket out of every room (it is leaving the namespace).
    fn del_all(&self, id: &Sid);
    /// The rooms a local socket is in.
    fn socket_rooms(&self, id: &Sid) -> Vec<Room>;
    /// Every room with at least one local socket.
    fn rooms(&self) -> Vec<Room>;
    /// The local sockets these options address.
    fn local_sockets(&self, opts: &BroadcastOptions) -> Vec<Sid>;
    /// Delivers an event packet to every addressed socket, local and (unless `local`) remote.
    fn broadcast(&self, packet: Packet, opts: &BroadcastOptions);
    /// Delivers a packet that carries an ack id; every recipient's answer is sent to `answers`. The future
    /// resolves to how many clients, on every node, were sent the packet.
    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: &BroadcastOptions,
        answers: mpsc::UnboundedSender<Vec<Value>>,
    ) -> BoxFuture<usize>;
    /// The addressed sockets, on every node.
    fn fetch_sockets(&self, opts: &BroadcastOptions) -> BoxFuture<Vec<SocketInfo>>;
    /// Makes the addressed sockets join these rooms.
    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]);
    /// Makes the addressed sockets leave these rooms.
    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]);
    /// Disconnects the addressed sockets; `close` also closes their whole connection.
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool);
    /// Emits an event to the other nodes' servers (not to clients). The future resolves to their
    /// acknowledgements when `ack` is set, and to nothing without other nodes.
    fn server_side_emit(&self, args: Vec<Value>, ack: bool) -> BoxFuture<Vec<Vec<Value>>>;
    /// How many nodes serve this namespace, this one included.
    fn server_count(&self) -> BoxFuture<usize>;
    /// Keeps a disconnected socket's state for recovery.
    fn persist_session(&self, session: SessionState);
    /// Finds a kept session by private id, with what it missed after `offset`.
    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>>;
}

/// Builds the adapter of each namespace as the namespace is created.
pub type AdapterFactory =
    Arc<dyn Fn(NamespaceRef, Option<RecoveryConfig>) -> Arc<dyn Adapter> + Send + Sync>;

/// The default factory: an [`InMemoryAdapter`] per namespace.
pub fn in_memory() -> AdapterFactory {
    Arc::new(|nsp, recovery| Arc::new(InMemoryAdapter::new(nsp, recovery)))
}
