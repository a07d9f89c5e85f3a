//! The in-memory adapter: rooms of one node, delivery to local sockets, and the recovery store.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Mutex, RwLock},
    time::{Duration, Instant},
};

use socketio_codec::{Encoded, Packet, PacketKind, ProtocolVersion, Value};
use tokio::sync::mpsc;

use super::{
    Adapter, BoxFuture, BroadcastOptions, RestoredSession, Room, SessionState, Sid, SocketInfo,
};
use crate::{ack::AckSlot, config::RecoveryConfig, namespace::NamespaceRef};

/// Rooms and delivery for a single node. The default adapter.
#[derive(Debug)]
pub struct InMemoryAdapter {
    nsp: NamespaceRef,
    rooms: RwLock<Rooms>,
    recovery: Option<Mutex<RecoveryStore>>,
    max_disconnection: Duration,
}

#[derive(Debug, Default)]
struct Rooms {
    members: HashMap<Room, HashSet<Sid>>,
    of_socket: HashMap<Sid, HashSet<Room>>,
}

/// Sessions kept after a recoverable disconnect, and the event packets broadcast since, oldest first.
#[derive(Debug, Default)]
struct RecoveryStore {
    sessions: HashMap<Box<str>, (SessionState, Instant)>,
    packets: VecDeque<StoredPacket>,
    next_offset: u64,
}

#[derive(Debug)]
struct StoredPacket {
    offset: String,
    rooms: HashSet<Room>,
    except: HashSet<Room>,
    packet: Packet,
    emitted: Instant,
}

impl InMemoryAdapter {
    /// An adapter for the namespace `nsp`; `recovery` turns on the session store.
    pub fn new(nsp: NamespaceRef, recovery: Option<RecoveryConfig>) -> Self {
        let max_disconnection = recovery
            .as_ref()
            .map(|r| r.max_disconnection_duration)
            .unwrap_or_default();
        Self {
            nsp,
            rooms: RwLock::new(Rooms::default()),
            recovery: recovery.map(|_| Mutex::new(RecoveryStore::default())),
            max_disconnection,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Rooms> {
        self.rooms.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Rooms> {
        self.rooms.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `packet` to the addressed local sockets, encoding it once per protocol version, and
    /// returns how many sockets it went to.
    fn deliver(
        &self,
        packet: &Packet,
        opts: &BroadcastOptions,
        answers: Option<&mpsc::UnboundedSender<Vec<Value>>>,
    ) -> usize {
        let Some(nsp) = self.nsp.upgrade() else {
            return 0;
        };
        let mut encoded: [Option<Encoded>; 2] = [None, None];
        let mut sent = 0;
        for id in self.local_sockets(opts) {
            let Some(socket) = nsp.socket(&id) else {
                continue;
            };
            if opts.flags.volatile && !socket.is_writable() {
                continue;
            }
            if let (Some(tx), Some(ack_id)) = (answers, packet.id) {
                socket.register_ack(ack_id, AckSlot::Gather(tx.clone()));
            }
            socket.notify_outgoing(packet);
            let version = socket.protocol();
            let slot = &mut encoded[usize::from(version == ProtocolVersion::V5)];
            let frames = slot.get_or_insert_with(|| packet.encode(version));
            socket.send_encoded(frames);
            sent += 1;
        }
        sent
    }

    /// Appends the recovery offset to an event that may be replayed, and keeps it.
    fn store_for_recovery(&self, packet: &mut Packet, opts: &BroadcastOptions) {
        let Some(store) = &self.recovery else { return };
        // Packets with an ack id are not kept: an acknowledgement cannot be replayed on another
        // connection. Volatile packets are allowed to be lost.
        if packet.id.is_some() || opts.flags.volatile {
            return;
        }
        let PacketKind::Event(args) = &mut packet.kind else {
            return;
        };
        let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        store.expire(now, self.max_disconnection);
        store.next_offset += 1;
        let offset = format!("{:x}", store.next_offset);
        args.push(Value::String(offset.clone()));
        store.packets.push_back(StoredPacket {
            offset,
            rooms: opts.rooms.clone(),
            except: opts.except.clone(),
            packet: packet.clone(),
            emitted: now,
        });
    }
}

impl RecoveryStore {
    fn expire(&mut self, now: Instant, max: Duration) {
        while self
            .packets
            .front()
            .is_some_and(|p| now.duration_since(p.emitted) > max)
        {
            self.packets.pop_front();
        }
        if self.sessions.len() > 1024 {
            self.sessions
                .retain(|_, (_, at)| now.duration_since(*at) <= max);
        }
    }
}

fn addressed(rooms: &Rooms, opts: &BroadcastOptions) -> Vec<Sid> {
    let excluded = |id: &Sid| {
        !opts.except.is_empty()
            && rooms
                .of_socket
                .get(id)
                .is_some_and(|joined| joined.iter().any(|r| opts.except.contains(r)))
    };
    if opts.rooms.is_empty() {
        return rooms
            .of_socket
            .keys()
            .filter(|id| !excluded(id))
            .cloned()
            .collect();
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for room in &opts.rooms {
        for id in rooms.members.get(room).into_iter().flatten() {
            if !excluded(id) && seen.insert(id.clone()) {
                out.push(id.clone());
            }
        }
    }
    out
}

impl Adapter for InMemoryAdapter {
    fn add_all(&self, id: &Sid, rooms: &[Room]) {
        let mut state = self.write();
        for room in rooms {
            state
                .members
                .entry(room.clone())
                .or_default()
                .insert(id.clone());
            state
                .of_socket
                .entry(id.clone())
                .or_default()
                .insert(room.clone());
        }
    }

    fn del(&self, id: &Sid, room: &str) {
        let mut state = self.write();
        if let Some(members) = state.members.get_mut(room) {
            members.remove(id);
            if members.is_empty() {
                state.members.remove(room);
            }
        }
        if let Some(joined) = state.of_socket.get_mut(id) {
            joined.remove(room);
        }
    }

    fn del_all(&self, id: &Sid) {
        let mut state = self.write();
        let Some(joined) = state.of_socket.remove(id) else {
            return;
        };
        for room in joined {
            if let Some(members) = state.members.get_mut(&room) {
                members.remove(id);
                if members.is_empty() {
                    state.members.remove(&room);
                }
            }
        }
    }

    fn socket_rooms(&self, id: &Sid) -> Vec<Room> {
        self.read()
            .of_socket
            .get(id)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn rooms(&self) -> Vec<Room> {
        self.read().members.keys().cloned().collect()
    }

    fn local_sockets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        addressed(&self.read(), opts)
    }

    fn broadcast(&self, mut packet: Packet, opts: &BroadcastOptions) {
        self.store_for_recovery(&mut packet, opts);
        self.deliver(&packet, opts, None);
    }

    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: &BroadcastOptions,
        answers: mpsc::UnboundedSender<Vec<Value>>,
    ) -> BoxFuture<usize> {
        let sent = self.deliver(&packet, opts, Some(&answers));
        Box::pin(async move { sent })
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
        let Some(store) = &self.recovery else { return };
        let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        store.expire(now, self.max_disconnection);
        store
            .sessions
            .insert(session.pid.as_ref().into(), (session, now));
    }

    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>> {
        let restored = self.recovery.as_ref().and_then(|store| {
            let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            store.expire(now, self.max_disconnection);
            let (state, at) = store.sessions.remove(pid)?;
            if now.duration_since(at) > self.max_disconnection {
                return None;
            }
            // An offset no longer kept means packets may be missing: no partial recovery.
            let index = store.packets.iter().position(|p| p.offset == offset)?;
            let missed = store
                .packets
                .iter()
                .skip(index + 1)
                .filter(|p| {
                    let included =
                        p.rooms.is_empty() || state.rooms.iter().any(|r| p.rooms.contains(r));
                    included && !state.rooms.iter().any(|r| p.except.contains(r))
                })
                .map(|p| p.packet.clone())
                .collect();
            Some(RestoredSession { state, missed })
        });
        Box::pin(async move { restored })
    }
}
