//! A socket: one client's membership of one namespace. Its rooms, its data, the acknowledgements
//! it waits for, the emits it makes, and how it leaves. Its listeners and the dispatch of incoming
//! events live in [`listeners`].

mod listeners;

use std::sync::{
    Arc, Mutex, RwLock,
    atomic::{AtomicBool, Ordering},
};

use engineio::TransportKind;
use socketio_codec::{Packet, PacketKind, ProtocolVersion, Value};
use tokio::sync::oneshot;

use crate::{
    ack::{AckFuture, AckResponder, AckSlot, PendingAcks},
    adapter::{BroadcastOptions, Room, SessionState, Sid},
    broadcast::BroadcastOperator,
    client::ClientShared,
    error::{EmitError, check_event_name},
    handshake::Handshake,
    namespace::Namespace,
    reason::DisconnectReason,
    wire::{Frames, Wire},
};

pub use listeners::Event;
use listeners::{Listeners, event_name_text};

/// A connected socket. Cheap to clone; every clone is the same socket.
#[derive(Clone)]
pub struct Socket(Arc<SocketInner>);

struct SocketInner {
    id: Sid,
    pid: Option<Arc<str>>,
    nsp: Namespace,
    client: Arc<ClientShared>,
    handshake: Handshake,
    listeners: RwLock<Listeners>,
    acks: PendingAcks,
    connected: AtomicBool,
    recovered: bool,
    data: Mutex<serde_json::Value>,
    extensions: Mutex<http::Extensions>,
    has_outgoing_listeners: AtomicBool,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.0.id)
            .field("nsp", &self.0.nsp.name())
            .finish_non_exhaustive()
    }
}

impl Socket {
    pub(crate) fn new(
        id: Sid,
        pid: Option<Arc<str>>,
        nsp: Namespace,
        client: Arc<ClientShared>,
        handshake: Handshake,
        recovered: bool,
        data: serde_json::Value,
    ) -> Self {
        Socket(Arc::new(SocketInner {
            id,
            pid,
            nsp,
            client,
            handshake,
            listeners: RwLock::new(Listeners::default()),
            acks: PendingAcks::default(),
            connected: AtomicBool::new(false),
            recovered,
            data: Mutex::new(data),
            extensions: Mutex::new(http::Extensions::new()),
            has_outgoing_listeners: AtomicBool::new(false),
        }))
    }

    /// The socket's id: random, never the Engine.IO session id (except for protocol v4 clients, whose
    /// ids the reference derives from it).
    pub fn id(&self) -> &Sid {
        &self.0.id
    }

    /// The private session id used by connection state recovery, when recovery is on.
    pub(crate) fn pid(&self) -> Option<&Arc<str>> {
        self.0.pid.as_ref()
    }

    /// The namespace the socket belongs to.
    pub fn namespace(&self) -> &Namespace {
        &self.0.nsp
    }

    pub(crate) fn namespace_name(&self) -> &str {
        self.0.nsp.name()
    }

    /// The handshake: request headers, query, address, auth payload.
    pub fn handshake(&self) -> &Handshake {
        &self.0.handshake
    }

    /// Whether this socket is a recovered one (connection state recovery found its session).
    pub fn recovered(&self) -> bool {
        self.0.recovered
    }

    /// Whether the socket is still connected to its namespace.
    pub fn connected(&self) -> bool {
        self.0.connected.load(Ordering::Acquire)
    }

    /// The Socket.IO protocol the client speaks.
    pub fn protocol(&self) -> ProtocolVersion {
        self.0.client.version
    }

    /// The transport currently carrying the connection.
    pub fn transport(&self) -> TransportKind {
        self.0.client.sender.transport()
    }

    /// Per-socket data, kept across a recovery and shown to other nodes by `fetch_sockets`; an
    /// empty object until [`set_data`](Self::set_data), as the reference's `socket.data`.
    pub fn data(&self) -> serde_json::Value {
        self.0
            .data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the per-socket data.
    pub fn set_data(&self, data: serde_json::Value) {
        *self.0.data.lock().unwrap_or_else(|e| e.into_inner()) = data;
    }

    /// Stores a typed value on the socket (one per type; a second insert replaces the first).
    /// Unlike [`data`](Self::data) it is local to this node and not kept by recovery; use it for
    /// what handlers need on every event (an identity, a parsed filter).
    pub fn insert_extension<T: Clone + Send + Sync + 'static>(&self, value: T) {
        self.0
            .extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(value);
    }

    /// A copy of the value of type `T` stored with [`insert_extension`](Self::insert_extension).
    pub fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.0
            .extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get::<T>()
            .cloned()
    }

    /// Emits an event to this client.
    pub fn emit(&self, event: &str, args: Vec<Value>) -> Result<(), EmitError> {
        check_event_name(event)?;
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        let packet = Packet::event(self.namespace_name(), event, args, None);
        if self.0.client.recovery {
            // Through the adapter, so that the event gets an offset and is kept for a replay.
            let mut opts = BroadcastOptions::default();
            opts.rooms.insert(self.0.id.clone());
            self.0.nsp.adapter().broadcast(packet, &opts);
        } else {
            self.notify_outgoing(&packet);
            self.send_packet(&packet);
        }
        Ok(())
    }

    /// Emits an event the client acknowledges; await the result (add `.timeout(..)` to bound the wait).
    pub fn emit_with_ack(&self, event: &str, args: Vec<Value>) -> Result<AckFuture, EmitError> {
        check_event_name(event)?;
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        let id = self.0.nsp.0.ack_ids.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.0.acks.insert(id, AckSlot::Once(tx));
        let packet = Packet::event(self.namespace_name(), event, args, Some(id));
        self.notify_outgoing(&packet);
        self.send_packet(&packet);
        Ok(AckFuture::new(self.clone(), id, rx))
    }

    /// Joins a room.
    pub fn join(&self, room: impl Into<Room>) {
        self.0.nsp.adapter().add_all(&self.0.id, &[room.into()]);
    }

    /// Joins several rooms.
    pub fn join_all(&self, rooms: &[Room]) {
        self.0.nsp.adapter().add_all(&self.0.id, rooms);
    }

    /// Leaves a room.
    pub fn leave(&self, room: &str) {
        self.0.nsp.adapter().del(&self.0.id, room);
    }

    /// The rooms the socket is in (its own id among them).
    pub fn rooms(&self) -> Vec<Room> {
        self.0.nsp.adapter().socket_rooms(&self.0.id)
    }

    /// A broadcast to every other socket of the namespace.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::excluding(self.0.nsp.clone(), self.0.id.clone())
    }

    /// A broadcast to the sockets in `room`, this one excepted.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Same as [`to`](Self::to).
    pub fn in_room(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.to(room)
    }

    /// A broadcast to every other socket not in `room`.
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().except(room)
    }

    /// Removes the socket from its namespace (the client gets a DISCONNECT); with `close`, closes the
    /// whole connection, every namespace of it included.
    pub fn disconnect(&self, close: bool) {
        if !self.connected() {
            return;
        }
        if close {
            self.0.client.disconnect_all();
        } else {
            self.send_packet(&Packet::disconnect(self.namespace_name()));
            self.on_close(DisconnectReason::ServerNamespaceDisconnect);
        }
    }

    /// Closes the connection's transport (after what is already queued) without a DISCONNECT packet:
    /// the client sees `transport close` and reconnects.
    pub fn close_transport(&self) {
        self.0.client.close_transport();
    }

    // ---- crate-internal plumbing ----

    pub(crate) fn set_connected(&self) {
        self.0.connected.store(true, Ordering::Release);
    }

    pub(crate) fn is_writable(&self) -> bool {
        self.0.client.sender.is_writable()
    }

    pub(crate) fn register_ack(&self, id: u64, slot: AckSlot) {
        self.0.acks.insert(id, slot);
    }

    /// Stops waiting for an ack (its waiter gave up).
    pub(crate) fn forget_ack(&self, id: u64) {
        self.0.acks.remove(id);
    }

    pub(crate) fn send_packet(&self, packet: &Packet) {
        self.send_frames(&self.0.client.wire.encode(packet));
    }

    /// Sends a packet already encoded for this socket's [`wire`](Self::wire).
    pub(crate) fn send_frames(&self, frames: &Frames) {
        self.0.client.send_frames(frames);
    }

    /// How this socket's connection encodes packets.
    pub(crate) fn wire(&self) -> Wire {
        self.0.client.wire
    }

    /// Dispatches a packet the client sent to this namespace.
    pub(crate) fn on_packet(&self, packet: Packet) {
        match packet.kind {
            PacketKind::Event(mut args) => {
                if args.is_empty() {
                    return;
                }
                let name = match args.remove(0) {
                    Value::String(s) => s,
                    other => event_name_text(&other),
                };
                let ack = packet.id.map(|id| AckResponder::new(self.clone(), id));
                self.on_event(Event { name, args, ack });
            }
            PacketKind::Ack(args) => {
                if let Some(id) = packet.id {
                    self.0.acks.resolve(id, args);
                }
            }
            PacketKind::Disconnect => self.on_close(DisconnectReason::ClientNamespaceDisconnect),
            PacketKind::Connect(_) | PacketKind::ConnectError(_) => {}
        }
    }

    /// Leaves the namespace for `reason`: `disconnecting`, session kept for recovery, rooms left,
    /// `disconnect`. Runs once.
    pub(crate) fn on_close(&self, reason: DisconnectReason) {
        if !self.0.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        let disconnecting = self.listeners().disconnecting.clone();
        for handler in disconnecting {
            handler(self, reason);
        }
        let adapter = self.0.nsp.adapter();
        if let Some(pid) = self.pid().filter(|_| reason.is_recoverable()) {
            adapter.persist_session(SessionState {
                sid: self.0.id.clone(),
                pid: pid.clone(),
                rooms: adapter.socket_rooms(&self.0.id),
                data: self.data(),
            });
        }
        adapter.del_all(&self.0.id);
        self.0.nsp.remove_socket(&self.0.id);
        self.0.client.remove(self.namespace_name());
        self.0.acks.clear();
        let disconnect = self.listeners().disconnect.clone();
        for handler in disconnect {
            handler(self, reason);
        }
        // Handlers may hold clones of this socket; dropping them breaks cycles through closures.
        *self.listeners_mut() = Listeners::default();
    }
}
