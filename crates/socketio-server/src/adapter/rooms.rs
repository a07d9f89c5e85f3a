//! The room index of one namespace on one node: which sockets are in which rooms, both ways,
//! and which sockets a set of broadcast options addresses.
//!
//! Pure bookkeeping with no locks: the in-memory adapter wraps it in a lock. Each member carries a
//! handle of the caller's choosing (the adapter stores the socket itself), so that a broadcast walks
//! the members it addresses and reaches them directly, without looking every id up again elsewhere
//! and without building a list of ids first.

use std::collections::{HashMap, HashSet};

use super::{BroadcastOptions, Room, Sid};

/// Rooms to members and members to rooms. An empty room does not exist, and neither does a
/// member in no room.
#[derive(Debug)]
pub(crate) struct RoomIndex<H> {
    /// The members, packed: a broadcast to everyone is a walk over this vector. A member that
    /// leaves is replaced by the last one, so positions change (see [`Self::remove_at`]).
    members: Vec<Member<H>>,
    /// Where each member is in `members`.
    position: HashMap<Sid, usize>,
    /// The positions of each room's members.
    rooms: HashMap<Room, HashSet<usize>>,
}

#[derive(Debug)]
struct Member<H> {
    id: Sid,
    handle: H,
    rooms: HashSet<Room>,
}

impl<H> Default for RoomIndex<H> {
    fn default() -> Self {
        Self {
            members: Vec::new(),
            position: HashMap::new(),
            rooms: HashMap::new(),
        }
    }
}

impl<H> RoomIndex<H> {
    /// Puts `id` in every room of `rooms`, and makes `handle` the one its broadcasts reach.
    pub(crate) fn add_all(&mut self, id: &Sid, rooms: &[Room], handle: H) {
        if rooms.is_empty() {
            return;
        }
        let at = match self.position.get(id) {
            Some(&at) => {
                self.members[at].handle = handle;
                at
            }
            None => {
                self.members.push(Member {
                    id: id.clone(),
                    handle,
                    rooms: HashSet::new(),
                });
                self.position.insert(id.clone(), self.members.len() - 1);
                self.members.len() - 1
            }
        };
        for room in rooms {
            if self.members[at].rooms.insert(room.clone()) {
                self.rooms.entry(room.clone()).or_default().insert(at);
            }
        }
    }

    /// Takes `id` out of `room`.
    pub(crate) fn del(&mut self, id: &Sid, room: &str) {
        let Some(&at) = self.position.get(id) else {
            return;
        };
        if !self.members[at].rooms.remove(room) {
            return;
        }
        self.leave_room(room, at);
        if self.members[at].rooms.is_empty() {
            self.remove_at(at);
        }
    }

    /// Takes `id` out of every room.
    pub(crate) fn del_all(&mut self, id: &Sid) {
        let Some(&at) = self.position.get(id) else {
            return;
        };
        let joined = std::mem::take(&mut self.members[at].rooms);
        for room in &joined {
            self.leave_room(room, at);
        }
        self.remove_at(at);
    }

    /// The rooms `id` is in.
    pub(crate) fn socket_rooms(&self, id: &Sid) -> Vec<Room> {
        self.position
            .get(id)
            .map(|&at| self.members[at].rooms.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every non-empty room.
    pub(crate) fn rooms(&self) -> Vec<Room> {
        self.rooms.keys().cloned().collect()
    }

    /// The ids of the sockets [`visit`](Self::visit) would reach.
    pub(crate) fn addressed(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        let mut out = Vec::new();
        self.visit(opts, |id, _| out.push(id.clone()));
        out
    }

    /// Calls `f` once for every member in any of `opts.rooms` (every member when there are none)
    /// and in none of `opts.except`, in no particular order.
    pub(crate) fn visit(&self, opts: &BroadcastOptions, mut f: impl FnMut(&Sid, &H)) {
        // The positions left out, sorted: usually a single one (the sender's own room), so a
        // binary search costs next to nothing per member.
        let mut excluded: Vec<usize> = opts
            .except
            .iter()
            .filter_map(|room| self.rooms.get(room))
            .flatten()
            .copied()
            .collect();
        excluded.sort_unstable();
        excluded.dedup();
        let mut reach = |at: usize| {
            if excluded.binary_search(&at).is_err() {
                let member = &self.members[at];
                f(&member.id, &member.handle);
            }
        };

        if opts.rooms.is_empty() {
            (0..self.members.len()).for_each(&mut reach);
            return;
        }
        let mut targeted = opts.rooms.iter().filter_map(|room| self.rooms.get(room));
        let first = targeted.next();
        let others: Vec<&HashSet<usize>> = targeted.collect();
        if others.is_empty() {
            // One room holds each member once: nothing to deduplicate.
            first.into_iter().flatten().copied().for_each(&mut reach);
            return;
        }
        // A member in several of the rooms gets the packet once.
        let mut seen = HashSet::new();
        for &at in first.into_iter().chain(others).flatten() {
            if seen.insert(at) {
                reach(at);
            }
        }
    }

    fn leave_room(&mut self, room: &str, at: usize) {
        if let Some(members) = self.rooms.get_mut(room) {
            members.remove(&at);
            if members.is_empty() {
                self.rooms.remove(room);
            }
        }
    }

    /// Removes the member at `at`, which is in no room any more. The last member takes its place,
    /// and the rooms and positions that named the last member's position are renamed.
    fn remove_at(&mut self, at: usize) {
        let gone = self.members.swap_remove(at);
        self.position.remove(&gone.id);
        let Some(moved) = self.members.get(at) else {
            // It was the last one: nothing moved.
            return;
        };
        let from = self.members.len();
        self.position.insert(moved.id.clone(), at);
        for room in &moved.rooms {
            if let Some(members) = self.rooms.get_mut(room) {
                members.remove(&from);
                members.insert(at);
            }
        }
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

    /// The handles a broadcast reaches, sorted; each handle is its member's id in upper case.
    fn reached(ix: &RoomIndex<String>, o: &BroadcastOptions) -> Vec<String> {
        let mut out = Vec::new();
        ix.visit(o, |id, handle| {
            assert_eq!(*handle, id.to_uppercase());
            out.push(handle.clone());
        });
        out.sort();
        out
    }

    fn join(ix: &mut RoomIndex<String>, id: &str, rooms: &[&str]) {
        let rooms: Vec<Room> = rooms.iter().map(|r| Room::from(*r)).collect();
        ix.add_all(&sid(id), &rooms, id.to_uppercase());
    }

    /// a in {a, red}; b in {b, red, blue}; c in {c, blue}.
    fn index() -> RoomIndex<String> {
        let mut ix = RoomIndex::default();
        join(&mut ix, "a", &["a", "red"]);
        join(&mut ix, "b", &["b", "red", "blue"]);
        join(&mut ix, "c", &["c", "blue"]);
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
    fn several_rooms_reach_each_member_once() {
        let ix = index();
        assert_eq!(
            reached(&ix, &opts(&["a", "red", "blue"], &[])),
            ["A", "B", "C"]
        );
        assert_eq!(
            reached(&ix, &opts(&["red", "blue", "nobody"], &[])),
            ["A", "B", "C"]
        );
        assert_eq!(reached(&ix, &opts(&["nobody", "blue"], &[])), ["B", "C"]);
    }

    #[test]
    fn except_sets() {
        let ix = index();
        // The sender's own room, as `socket.broadcast()` addresses.
        assert_eq!(reached(&ix, &opts(&[], &["b"])), ["A", "C"]);
        // Several exceptions, overlapping, one of them unknown.
        assert_eq!(reached(&ix, &opts(&[], &["red", "b", "nobody"])), ["C"]);
        assert_eq!(reached(&ix, &opts(&["red", "blue"], &["c", "a"])), ["B"]);
        assert!(reached(&ix, &opts(&["red"], &["red"])).is_empty());
        assert!(reached(&ix, &opts(&[], &["red", "blue"])).is_empty());
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
        ix.del(&sid("a"), "blue");
        ix.del_all(&sid("zz"));
        assert_eq!(reached(&ix, &opts(&[], &[])), ["A", "B"]);
    }

    #[test]
    fn a_member_in_no_room_is_gone() {
        let mut ix = index();
        ix.del(&sid("a"), "a");
        ix.del(&sid("a"), "red");
        assert_eq!(reached(&ix, &opts(&[], &[])), ["B", "C"]);
        assert!(ix.socket_rooms(&sid("a")).is_empty());
        // Joining no room adds no member.
        join(&mut ix, "d", &[]);
        assert_eq!(reached(&ix, &opts(&[], &[])), ["B", "C"]);
    }

    #[test]
    fn members_moved_by_a_removal_keep_their_rooms() {
        // Removing the first member moves the last one into its place.
        let mut ix = index();
        ix.del_all(&sid("a"));
        assert_eq!(reached(&ix, &opts(&["blue"], &[])), ["B", "C"]);
        assert_eq!(reached(&ix, &opts(&["c"], &[])), ["C"]);
        assert_eq!(reached(&ix, &opts(&[], &["c"])), ["B"]);
        join(&mut ix, "c", &["red"]);
        assert_eq!(reached(&ix, &opts(&["red"], &[])), ["B", "C"]);
        ix.del_all(&sid("b"));
        assert_eq!(reached(&ix, &opts(&["red", "blue"], &[])), ["C"]);
        let mut rooms = ix.socket_rooms(&sid("c"));
        rooms.sort();
        assert_eq!(
            rooms,
            vec![Room::from("blue"), Room::from("c"), Room::from("red")]
        );
        ix.del_all(&sid("c"));
        assert!(ix.rooms().is_empty());
        assert!(reached(&ix, &opts(&[], &[])).is_empty());
    }

    #[test]
    fn joining_again_replaces_the_handle() {
        let mut ix = index();
        ix.add_all(&sid("a"), &[Room::from("red")], "A2".into());
        let mut handles = Vec::new();
        ix.visit(&opts(&["red"], &[]), |_, h| handles.push(h.clone()));
        handles.sort();
        assert_eq!(handles, ["A2", "B"]);
    }

    #[test]
    fn churn_keeps_both_directions_consistent() {
        // Joins and leaves in a fixed but scrambled order, checked against a plain model.
        let mut ix = RoomIndex::default();
        let mut model: HashMap<String, HashSet<String>> = HashMap::new();
        let names = ["r0", "r1", "r2", "r3"];
        for step in 0..400u32 {
            let id = format!("s{}", step.wrapping_mul(7) % 13);
            let room = names[(step.wrapping_mul(5) % 4) as usize];
            match step % 5 {
                0 | 1 => {
                    ix.add_all(&sid(&id), &[Room::from(room)], id.to_uppercase());
                    model.entry(id).or_default().insert(room.into());
                }
                2 | 3 => {
                    ix.del(&sid(&id), room);
                    if let Some(rooms) = model.get_mut(&id) {
                        rooms.remove(room);
                        if rooms.is_empty() {
                            model.remove(&id);
                        }
                    }
                }
                _ => {
                    ix.del_all(&sid(&id));
                    model.remove(&id);
                }
            }
            for room in names {
                let mut expected: Vec<String> = model
                    .iter()
                    .filter(|(_, rooms)| rooms.contains(room))
                    .map(|(id, _)| id.to_uppercase())
                    .collect();
                expected.sort();
                assert_eq!(reached(&ix, &opts(&[room], &[])), expected, "step {step}");
            }
            let mut everyone: Vec<String> = model.keys().map(|id| id.to_uppercase()).collect();
            everyone.sort();
            assert_eq!(reached(&ix, &opts(&[], &[])), everyone, "step {step}");
        }
    }
}
