//! The broadcast operator: whom to address (rooms, exceptions) and how (volatile, local, compress,
//! timeout), then what to do (emit, emit with acks, fetch, join, leave, disconnect).

use std::time::Duration;

use socketio_codec::{Packet, Value};
use tokio::sync::mpsc;

use crate::{
    ack::BroadcastAckFuture,
    adapter::{BroadcastOptions, Room, SocketInfo},
    error::{EmitError, check_event_name},
    namespace::Namespace,
};

/// A broadcast being described. Built from a namespace or a socket; each method returns it for chaining.
#[derive(Debug, Clone)]
pub struct BroadcastOperator {
    nsp: Namespace,
    opts: BroadcastOptions,
}

impl BroadcastOperator {
    pub(crate) fn new(nsp: Namespace) -> Self {
        Self {
            nsp,
            opts: BroadcastOptions::default(),
        }
    }

    pub(crate) fn excluding(nsp: Namespace, room: Room) -> Self {
        let mut op = Self::new(nsp);
        op.opts.except.insert(room);
        op
    }

    /// Adds a room to address (sockets in any of the rooms are addressed).
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        self.opts.rooms.insert(room.into());
        self
    }

    /// Same as [`to`](Self::to).
    pub fn in_room(self, room: impl Into<Room>) -> Self {
        self.to(room)
    }

    /// Adds a room whose sockets are left out.
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.opts.except.insert(room.into());
        self
    }

    /// Recipients that cannot take the packet right now do not get it.
    pub fn volatile(mut self) -> Self {
        self.opts.flags.volatile = true;
        self
    }

    /// Only the sockets of this node.
    pub fn local(mut self) -> Self {
        self.opts.flags.local = true;
        self
    }

    /// Whether the transport should compress the packet.
    pub fn compress(mut self, compress: bool) -> Self {
        self.opts.flags.compress = compress;
        self
    }

    /// How long [`emit_with_ack`](Self::emit_with_ack) waits for every answer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.flags.timeout = Some(timeout);
        self
    }

    /// The options as the adapter sees them.
    pub fn options(&self) -> &BroadcastOptions {
        &self.opts
    }

    /// Emits an event to every addressed socket. The packet is encoded once for all of them.
    pub fn emit(&self, event: &str, args: Vec<Value>) -> Result<(), EmitError> {
        check_event_name(event)?;
        let packet = Packet::event(self.nsp.name(), event, args, None);
        self.nsp.adapter().broadcast(packet, &self.opts);
        Ok(())
    }

    /// Emits an event that every addressed client acknowledges; await the result for their
    /// answers. With a [`timeout`](Self::timeout) (counted from this call), a missing answer is a
    /// [`BroadcastAckError`](crate::BroadcastAckError) holding the answers that did arrive; without one, the wait ends when
    /// every recipient answered or left. Unlike the reference, which fails at once without a
    /// timeout, no timeout means no limit.
    pub fn emit_with_ack(
        &self,
        event: &str,
        args: Vec<Value>,
    ) -> Result<BroadcastAckFuture, EmitError> {
        check_event_name(event)?;
        let id = self.nsp.next_ack_id();
        let packet = Packet::event(self.nsp.name(), event, args, Some(id));
        let (tx, rx) = mpsc::unbounded_channel();
        let expected = self
            .nsp
            .adapter()
            .broadcast_with_ack(packet, &self.opts, tx);
        Ok(BroadcastAckFuture::new(
            expected,
            rx,
            self.opts.flags.timeout,
        ))
    }

    /// The addressed sockets, on every node.
    pub async fn fetch_sockets(&self) -> Vec<SocketInfo> {
        self.nsp.adapter().fetch_sockets(&self.opts).await
    }

    /// Makes the addressed sockets join `rooms`.
    pub fn sockets_join(&self, rooms: &[Room]) {
        self.nsp.adapter().add_sockets(&self.opts, rooms);
    }

    /// Makes the addressed sockets leave `rooms`.
    pub fn sockets_leave(&self, rooms: &[Room]) {
        self.nsp.adapter().del_sockets(&self.opts, rooms);
    }

    /// Disconnects the addressed sockets; `close` also closes their whole connection.
    pub fn disconnect_sockets(&self, close: bool) {
        self.nsp.adapter().disconnect_sockets(&self.opts, close);
    }
}
