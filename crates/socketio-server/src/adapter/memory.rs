//! The in-memory adapter: rooms of one node ([`RoomIndex`]), delivery to local sockets, and the
//! recovery store ([`RecoveryStore`]). The default adapter; other nodes are out of its reach,
//! so `local` changes nothing and server-side emits reach no one.

use std::{
    sync::{Mutex, RwLock},
    time::Instant,
};

use socketio_codec::{Packet, Value};
use tokio::sync::mpsc;

use super::{
    Adapter, BoxFuture, BroadcastOptions, RestoredSession, Room, SessionState, Sid, SocketInfo,
    recovery::RecoveryStore, rooms::RoomIndex,
};
use crate::{
    ack::AckSlot,
    config::RecoveryConfig,
    namespace::NamespaceRef,
    socket::Socket,
    wire::{Frames, WIRE_COUNT},
};

/// Rooms and delivery for a single node. The default adapter.
#[derive(Debug)]
pub struct InMemoryAdapter {
    nsp: NamespaceRef,
    /// Each member's handle is its socket, as the namespace had it when it joined (`None` for an
    /// id the namespace did not know).
    rooms: RwLock<RoomIndex<Option<Socket>>>,
    recovery: Option<Mutex<RecoveryStore>>,
}

impl InMemoryAdapter {
    /// An adapter for the namespace `nsp`; `recovery` turns on the session store.
    pub fn new(nsp: NamespaceRef, recovery: Option<RecoveryConfig>) -> Self {
        Self {
            nsp,
            rooms: RwLock::new(RoomIndex::default()),
            recovery: recovery
                .map(|r| Mutex::new(RecoveryStore::new(r.max_disconnection_duration))),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, RoomIndex<Option<Socket>>> {
        self.rooms.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, RoomIndex<Option<Socket>>> {
        self.rooms.write().unwrap_or_else(|e| e.into_inner())
    }

    fn store(&self) -> Option<std::sync::MutexGuard<'_, RecoveryStore>> {
        self.recovery
            .as_ref()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Queues `packet` for the addressed local sockets, encoding it once per wire encoding. The
    /// caller then runs the outgoing catch-all listeners of the sockets that have some
    /// ([`notify`](Self::notify)), outside any lock of the adapter.
    fn deliver(
        &self,
        packet: &Packet,
        opts: &BroadcastOptions,
        answers: Option<&mpsc::UnboundedSender<Vec<Value>>>,
    ) -> Delivered {
        let mut encoded: [Option<Frames>; WIRE_COUNT] = Default::default();
        let mut delivered = Delivered::default();
        // The index stays read-locked while the packet is queued: a socket joining or leaving
        // meanwhile waits, so that each one gets the packet or not as a whole.
        self.read().visit(opts, |_, socket| {
            let Some(socket) = socket else {
                return;
            };
            if opts.flags.volatile && !socket.is_writable() {
                return;
            }
            if let (Some(tx), Some(ack_id)) = (answers, packet.id) {
                socket.register_ack(ack_id, AckSlot::Gather(tx.clone()));
            }
            let wire = socket.wire();
            let Some(slot) = encoded.get_mut(wire.index()) else {
                return;
            };
            let frames = slot.get_or_insert_with(|| wire.encode(packet));
            socket.send_frames(frames);
            delivered.count += 1;
            // Only the few sockets with outgoing listeners are kept for `notify`.
            if socket.has_outgoing_listeners() {
                delivered.listening.push(socket.clone());
            }
        });
        delivered
    }

    /// Runs the outgoing catch-all listeners of the sockets a packet went to.
    fn notify(sockets: &[Socket], packet: &Packet) {
        for socket in sockets {
            socket.notify_outgoing(packet);
        }
    }
}

/// What [`InMemoryAdapter::deliver`] did.
#[derive(Debug, Default)]
struct Delivered {
    /// How many sockets were sent the packet.
    count: usize,
    /// Those of them with outgoing catch-all listeners.
    listening: Vec<Socket>,
}

impl Adapter for InMemoryAdapter {
    fn add_all(&self, id: &Sid, rooms: &[Room]) {
        // The socket is looked up once here, so that broadcasts reach it without a lookup. It
        // is in the namespace before it joins its first room, and leaves every room before it
        // leaves the namespace.
        let socket = self.nsp.upgrade().and_then(|nsp| nsp.socket(id));
        let mut index = self.write();
        // Checked under the lock: a leaving socket marks itself disconnected before it takes
        // itself out of every room, so one that joins meanwhile is either taken out right
        // after or kept without a handle, and never left in a room, reachable, once gone.
        let socket = socket.filter(Socket::connected);
        index.add_all(id, rooms, socket);
    }

    fn del(&self, id: &Sid, room: &str) {
        self.write().del(id, room);
    }

    fn del_all(&self, id: &Sid) {
        self.write().del_all(id);
    }

    fn socket_rooms(&self, id: &Sid) -> Vec<Room> {
        self.read().socket_rooms(id)
    }

    fn rooms(&self) -> Vec<Room> {
        self.read().rooms()
    }

    fn local_sockets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.read().addressed(opts)
    }

    fn broadcast(&self, mut packet: Packet, opts: &BroadcastOptions) {
        // With recovery on, the store stays locked until every recipient has the packet queued,
        // so that offsets reach each client in increasing order: a client that saw offset N has
        // seen everything before it, and a replay from N repeats nothing.
        let mut store = self.store();
        if let Some(store) = store.as_mut() {
            store.store(&mut packet, opts, Instant::now());
        }
        let delivered = self.deliver(&packet, opts, None);
        drop(store);
        Self::notify(&delivered.listening, &packet);
    }

    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: &BroadcastOptions,
        answers: mpsc::UnboundedSender<Vec<Value>>,
    ) -> BoxFuture<usize> {
        let delivered = self.deliver(&packet, opts, Some(&answers));
        Self::notify(&delivered.listening, &packet);
        let count = delivered.count;
        Box::pin(async move { count })
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> BoxFuture<Vec<SocketInfo>> {
        let sockets = match self.nsp.upgrade() {
            Some(nsp) => self
                .local_sockets(opts)
                .into_iter()
                .filter_map(|id| nsp.socket(&id))
                .map(|s| SocketInfo {
                    id: s.id().clone(),
                    rooms: s.rooms(),
                    data: s.data(),
                    local: Some(s),
                })
                .collect(),
            None => Vec::new(),
        };
        Box::pin(async move { sockets })
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        for id in self.local_sockets(opts) {
            self.add_all(&id, rooms);
        }
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        for id in self.local_sockets(opts) {
            for room in rooms {
                self.del(&id, room);
            }
        }
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        let Some(nsp) = self.nsp.upgrade() else {
            return;
        };
        for id in self.local_sockets(opts) {
            if let Some(socket) = nsp.socket(&id) {
                socket.disconnect(close);
            }
        }
    }

    fn server_side_emit(&self, _args: Vec<Value>, _ack: bool) -> BoxFuture<Vec<Vec<Value>>> {
        // A single node has no other servers to reach: nothing to send, nobody to answer.
        Box::pin(async { Vec::new() })
    }

    fn server_count(&self) -> BoxFuture<usize> {
        Box::pin(async { 1 })
    }

    fn persist_session(&self, session: SessionState) {
        if let Some(mut store) = self.store() {
            store.persist(session, Instant::now());
        }
    }

    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>> {
        let restored = self
            .store()
            .and_then(|mut store| store.restore(pid, offset, Instant::now()));
        Box::pin(async move { restored })
    }
}
