//! The application's side of a session: [`Connection`], split into a
//! [`Sender`] (cheap to clone, usable from anywhere) and a [`Receiver`].

use std::sync::Arc;
use std::time::Instant;

use crate::config::{ProtocolVersion, TransportKind};
use crate::handshake::Handshake;
use crate::packet::Message;
use crate::reason::CloseReason;
use crate::shell::SessionHandle;

/// The error of a send on a closed session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the session is closed")]
pub struct Closed;

/// A new session, handed to the engine's `on_connection` callback once, after
/// the open packet was sent.
#[derive(Debug)]
pub struct Connection {
    handshake: Arc<Handshake>,
    sender: Sender,
    receiver: Receiver,
}

impl Connection {
    pub(crate) fn new(handle: Arc<SessionHandle>, handshake: Arc<Handshake>) -> Self {
        Connection {
            handshake,
            sender: Sender {
                handle: handle.clone(),
            },
            receiver: Receiver { handle },
        }
    }

    /// The session id.
    pub fn sid(&self) -> &str {
        &self.sender.handle.sid
    }

    /// The opening request.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// The opening request, shared.
    pub fn handshake_arc(&self) -> Arc<Handshake> {
        self.handshake.clone()
    }

    /// Splits into the sending and receiving halves.
    pub fn into_parts(self) -> (Sender, Receiver) {
        (self.sender, self.receiver)
    }
}

/// Sends messages to the client. Cheap to clone; never blocks.
#[derive(Clone, Debug)]
pub struct Sender {
    handle: Arc<SessionHandle>,
}

impl Sender {
    /// The session id.
    pub fn sid(&self) -> &str {
        &self.handle.sid
    }

    /// Queues a message for the client.
    ///
    /// A message that would take the session's queue past `max_buffered_bytes`
    /// closes the session with `transport error` and returns [`Closed`].
    pub fn send(&self, msg: Message) -> Result<(), Closed> {
        self.handle
            .with(|inner| inner.machine.send(msg))
            .map_err(|_| Closed)
    }

    /// Queues several messages back to back: no other sender's message comes
    /// between them (a Socket.IO binary packet and its attachments).
    pub fn send_all(&self, msgs: impl IntoIterator<Item = Message>) -> Result<(), Closed> {
        self.handle
            .with(|inner| inner.machine.send_all(msgs))
            .map_err(|_| Closed)
    }

    /// Whether a transport can take a message right now with nothing queued
    /// before it (for volatile messages, which are dropped otherwise).
    pub fn is_writable(&self) -> bool {
        self.handle.lock().machine.is_writable()
    }

    /// Closes after flushing what is queued (a WebSocket close, or a close
    /// packet `1` on the next poll).
    pub fn close(&self, reason: CloseReason) {
        self.handle
            .with(|inner| inner.machine.close(reason, Instant::now()));
    }

    /// Closes the transports at once; nothing more is sent.
    pub fn close_now(&self, reason: CloseReason) {
        self.handle.with(|inner| inner.machine.close_now(reason));
    }

    /// Whether the session is closing or closed.
    pub fn is_closed(&self) -> bool {
        self.handle.lock().machine.is_closing()
    }

    /// The transport carrying the session now.
    pub fn transport(&self) -> TransportKind {
        self.handle.lock().machine.transport()
    }

    /// The protocol revision.
    pub fn protocol(&self) -> ProtocolVersion {
        self.handle.protocol
    }

    /// Bytes of message data waiting to be sent.
    pub fn buffered_bytes(&self) -> usize {
        self.handle.lock().machine.buffered_bytes()
    }
}

/// Receives the client's messages.
#[derive(Debug)]
pub struct Receiver {
    handle: Arc<SessionHandle>,
}

impl Receiver {
    /// The next message; `None` once the session is closed and every message
    /// received before was returned.
    pub async fn recv(&mut self) -> Option<Message> {
        self.handle.next_inbound().await
    }

    /// A message already received, if there is one; never waits. `None` says
    /// nothing of whether the session is closed: [`Receiver::recv`] does.
    pub fn try_recv(&mut self) -> Option<Message> {
        self.handle.try_next_inbound()
    }

    /// Why the session closed, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.handle.closed.get().copied()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // Nothing reads any more: the transports must not wait for room.
        self.handle.drop_receiver();
    }
}
