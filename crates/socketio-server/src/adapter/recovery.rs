//! The store behind connection state recovery on one node: sessions kept after a recoverable
//! disconnect, and the event packets broadcast since, each with its offset.
//!
//! Pure: the current time is an argument, so expiry is tested without waiting. It does not
//! decide which disconnects are recoverable (the socket does) nor send the missed packets (the
//! client task does).

use std::{
    collections::{HashMap, HashSet, VecDeque},
    time::{Duration, Instant},
};

use socketio_codec::{Packet, PacketKind, Value};

use super::{BroadcastOptions, RestoredSession, Room, SessionState};

/// Above this many kept sessions, expired ones are swept on every insert; below it they are
/// swept when looked up, so a quiet node holds at most this many stale sessions.
const SESSION_SWEEP_THRESHOLD: usize = 1024;

/// Kept sessions and replayable packets, oldest first.
#[derive(Debug)]
pub(crate) struct RecoveryStore {
    max_disconnection: Duration,
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

impl RecoveryStore {
    /// A store keeping sessions and packets for `max_disconnection`.
    pub(crate) fn new(max_disconnection: Duration) -> Self {
        Self {
            max_disconnection,
            sessions: HashMap::new(),
            packets: VecDeque::new(),
            next_offset: 0,
        }
    }

    /// Appends an offset to an event that may be replayed, and keeps a copy.
    ///
    /// "packets with acknowledgement are not stored because the acknowledgement function cannot
    /// be serialized and restored on another server", and volatile packets may be lost anyway.
    pub(crate) fn store(&mut self, packet: &mut Packet, opts: &BroadcastOptions, now: Instant) {
        if packet.id.is_some() || opts.flags.volatile {
            return;
        }
        let PacketKind::Event(args) = &mut packet.kind else {
            return;
        };
        self.expire_packets(now);
        self.next_offset += 1;
        let offset = format!("{:x}", self.next_offset);
        args.push(Value::String(offset.clone()));
        self.packets.push_back(StoredPacket {
            offset,
            rooms: opts.rooms.clone(),
            except: opts.except.clone(),
            packet: packet.clone(),
            emitted: now,
        });
    }

    /// Keeps a disconnected socket's state.
    pub(crate) fn persist(&mut self, session: SessionState, now: Instant) {
        if self.sessions.len() >= SESSION_SWEEP_THRESHOLD {
            let max = self.max_disconnection;
            self.sessions
                .retain(|_, (_, at)| now.saturating_duration_since(*at) <= max);
        }
        self.sessions
            .insert(session.pid.as_ref().into(), (session, now));
    }

    /// Takes a kept session back, with the packets it missed after `offset`. `None` when the
    /// session is unknown or expired, or when `offset` is no longer kept (packets could be
    /// missing, and a partial replay would be worse than a fresh socket).
    pub(crate) fn restore(
        &mut self,
        pid: &str,
        offset: &str,
        now: Instant,
    ) -> Option<RestoredSession> {
        self.expire_packets(now);
        let (state, at) = self.sessions.remove(pid)?;
        if now.saturating_duration_since(at) > self.max_disconnection {
            return None;
        }
        let index = self.packets.iter().position(|p| p.offset == offset)?;
        let missed = self
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
    }

    fn expire_packets(&mut self, now: Instant) {
        let max = self.max_disconnection;
        while self
            .packets
            .front()
            .is_some_and(|p| now.saturating_duration_since(p.emitted) > max)
        {
            self.packets.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const MAX: Duration = Duration::from_secs(10);

    fn opts(rooms: &[&str], except: &[&str]) -> BroadcastOptions {
        BroadcastOptions {
            rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
            except: except.iter().map(|r| Room::from(*r)).collect(),
            ..BroadcastOptions::default()
        }
    }

    fn session(rooms: &[&str]) -> SessionState {
        SessionState {
            sid: Arc::from("sid"),
            pid: Arc::from("pid"),
            rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
            data: serde_json::Value::Null,
        }
    }

    /// Stores an event `n` for these options and returns its offset.
    fn emit(store: &mut RecoveryStore, n: u64, o: &BroadcastOptions, now: Instant) -> String {
        let mut p = Packet::event("/", "tick", vec![Value::from(n)], None);
        store.store(&mut p, o, now);
        p.args()
            .last()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    fn numbers(missed: &[Packet]) -> Vec<u64> {
        missed
            .iter()
            .filter_map(|p| p.args().first().and_then(Value::as_u64))
            .collect()
    }

    #[test]
    fn replays_what_was_missed_in_order_for_the_sessions_rooms() {
        let t = Instant::now();
        let mut store = RecoveryStore::new(MAX);
        let last_seen = emit(&mut store, 0, &opts(&[], &[]), t);
        store.persist(session(&["sid", "a"]), t);
        emit(&mut store, 1, &opts(&["a"], &[]), t);
        emit(&mut store, 2, &opts(&["b"], &[]), t);
        emit(&mut store, 3, &opts(&[], &["a"]), t);
        emit(&mut store, 4, &opts(&[], &[]), t);
        emit(&mut store, 5, &opts(&["sid"], &[]), t);
        let restored = store.restore("pid", &last_seen, t + Duration::from_secs(1));
        let restored = restored.map(|r| numbers(&r.missed));
        assert_eq!(restored, Some(vec![1, 4, 5]));
        // Used once.
        assert!(store.restore("pid", &last_seen, t).is_none());
    }

    #[test]
    fn acked_and_volatile_packets_are_neither_stored_nor_numbered() {
        let t = Instant::now();
        let mut store = RecoveryStore::new(MAX);
        let mut acked = Packet::event("/", "q", vec![], Some(1));
        store.store(&mut acked, &opts(&[], &[]), t);
        assert_eq!(acked.args().len(), 0);
        let mut volatile = Packet::event("/", "v", vec![], None);
        let mut o = opts(&[], &[]);
        o.flags.volatile = true;
        store.store(&mut volatile, &o, t);
        assert_eq!(volatile.args().len(), 0);
        assert!(store.packets.is_empty());
    }

    #[test]
    fn expired_sessions_and_offsets_are_not_restored() {
        let t = Instant::now();
        let mut store = RecoveryStore::new(MAX);
        let offset = emit(&mut store, 0, &opts(&[], &[]), t);
        store.persist(session(&["sid"]), t);
        assert!(
            store
                .restore("pid", &offset, t + MAX + Duration::from_millis(1))
                .is_none()
        );

        let mut store = RecoveryStore::new(MAX);
        let old = emit(&mut store, 0, &opts(&[], &[]), t);
        store.persist(session(&["sid"]), t + MAX);
        emit(
            &mut store,
            1,
            &opts(&[], &[]),
            t + MAX + Duration::from_secs(1),
        );
        // The session is fresh but its offset fell out of the store.
        assert!(
            store
                .restore("pid", &old, t + MAX + Duration::from_secs(1))
                .is_none()
        );
        assert!(store.restore("unknown", "1", t).is_none());
    }
}
