//! The room index of one namespace on one node: which sockets are in which rooms, both ways,
//! and which sockets a set of broadcast options addresses.
//!
//! Pure bookkeeping with no locks and no sockets: the in-memory adapter wraps it in a lock and
//! turns ids into sockets.

use std::collections::{HashMap, HashSet};

use super::{BroadcastOptions, Room, Sid};

/// Rooms to members and members to rooms. An empty room does not exist.
#[derive(Debug, Default)]
pub(crate) struct RoomIndex {
    members: HashMap<Room, HashSet<Sid>>,
    of_socket: HashMap<Sid, HashSet<Room>>,
}

impl RoomIndex {
    /// Puts `id` in every room of `rooms`.
    pub(crate) fn add_all(&mut self, id: &Sid, rooms: &[Room]) {
        for room in rooms {
            self.members
                .entry(room.clone())
                .or_default()
                .insert(id.clone());
            self.of_socket
                .entry(id.clone())
                .or_default()
                .insert(room.clone());
        }
    }

    /// Takes `id` out of `room`.
    pub(crate) fn del(&mut self, id: &Sid, room: &str) {
        if let Some(members) = self.members.get_mut(room) {
            members.remove(id);
            if members.is_empty() {
                self.members.remove(room);
            }
        }
        if let Some(joined) = self.of_socket.get_mut(id) {
            joined.remove(room);
            if joined.is_empty() {
                self.of_socket.remove(id);
            }
        }
    }

    /// Takes `id` out of every room.
    pub(crate) fn del_all(&mut self, id: &Sid) {
        let Some(joined) = self.of_socket.remove(id) else {
            return;
        };
        for room in joined {
            if let Some(members) = self.members.get_mut(&room) {
                members.remove(id);
                if members.is_empty() {
                    self.members.remove(&room);
                }
            }
        }
    }

    /// The rooms `id` is in.
    pub(crate) fn socket_rooms(&self, id: &Sid) -> Vec<Room> {
        self.of_socket
            .get(id)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every non-empty room.
    pub(crate) fn rooms(&self) -> Vec<Room> {
        self.members.keys().cloned().collect()
    }

    /// The sockets in any of `opts.rooms` (every socket when there are none) and in none of
    /// `opts.except`, each once.
    pub(crate) fn addressed(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        let excluded = |id: &Sid| {
            !opts.except.is_empty()
                && self
                    .of_socket
                    .get(id)
                    .is_some_and(|joined| joined.iter().any(|r| opts.except.contains(r)))
        };
        if opts.rooms.is_empty() {
            return self
                .of_socket
                .keys()
                .filter(|id| !excluded(id))
                .cloned()
                .collect();
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for room in &opts.rooms {
            for id in self.members.get(room).into_iter().flatten() {
                if !excluded(id) && seen.insert(id.clone()) {
                    out.push(id.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(s: &str) -> Sid {
        Sid::from(s)
    }

    fn opts(rooms: &[&str], except: &[&str]) -> BroadcastOptions {
        BroadcastOptions {
            rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
            except: except.iter().map(|r| Room::from(*r)).collect(),
            ..BroadcastOptions::default()
        }
    }

    fn sorted(mut v: Vec<Sid>) -> Vec<String> {
        v.sort();
        v.into_iter().map(|s| s.to_string()).collect()
    }

    /// a in {a, red}; b in {b, red, blue}; c in {c, blue}.
    fn index() -> RoomIndex {
        let mut ix = RoomIndex::default();
        ix.add_all(&sid("a"), &["a".into(), "red".into()]);
        ix.add_all(&sid("b"), &["b".into(), "red".into(), "blue".into()]);
        ix.add_all(&sid("c"), &["c".into(), "blue".into()]);
        ix
    }

    #[test]
    fn addressing() {
        let ix = index();
        assert_eq!(sorted(ix.addressed(&opts(&[], &[]))), ["a", "b", "c"]);
        assert_eq!(sorted(ix.addressed(&opts(&["red"], &[]))), ["a", "b"]);
        assert_eq!(
            sorted(ix.addressed(&opts(&["red", "blue"], &[]))),
            ["a", "b", "c"]
        );
        assert_eq!(sorted(ix.addressed(&opts(&["blue"], &["red"]))), ["c"]);
        assert_eq!(sorted(ix.addressed(&opts(&[], &["a"]))), ["b", "c"]);
        assert!(ix.addressed(&opts(&["nobody"], &[])).is_empty());
    }

    #[test]
    fn leaving_removes_empty_rooms() {
        let mut ix = index();
        ix.del(&sid("a"), "red");
        assert_eq!(ix.socket_rooms(&sid("a")), vec![Room::from("a")]);
        ix.del(&sid("b"), "red");
        assert!(!ix.rooms().contains(&Room::from("red")));
        ix.del_all(&sid("c"));
        assert!(ix.socket_rooms(&sid("c")).is_empty());
        let mut rooms = ix.rooms();
        rooms.sort();
        assert_eq!(
            rooms,
            vec![Room::from("a"), Room::from("b"), Room::from("blue")]
        );
        // Leaving what one is not in is a no-op.
        ix.del(&sid("zz"), "a");
        ix.del_all(&sid("zz"));
    }
}
