//! The channels of one namespace, and the random ids that name nodes and requests.

use rand::{Rng, distr::Alphanumeric};
use socketio_server::BroadcastOptions;

use crate::link::Topic;

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

    /// What the subscriber listens to for this namespace.
    pub(crate) fn topics(&self) -> Vec<Topic> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use socketio_server::Room;

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
}
